# Runs by ctest (tests/fuzz/CMakeLists.txt): one libFuzzer harness, in one of two modes.
#   MODE=regression  every input in REGRESSION once (-runs=0 runs the corpus and stops)
#   MODE=fuzz        fuzzing for SECONDS from SEEDS and REGRESSION, new inputs going to WORK,
#                    which starts empty so each run starts from the same corpus
# Any finding fails the test; libFuzzer leaves the input that caused it in ARTIFACTS.
file(MAKE_DIRECTORY ${ARTIFACTS})
# 30 s for one input is a hang: the largest inputs are a few KiB and run in milliseconds.
set(args -artifact_prefix=${ARTIFACTS}/ -timeout=30 -print_final_stats=1)
if(MODE STREQUAL "regression")
  list(APPEND args -runs=0 ${REGRESSION})
elseif(MODE STREQUAL "fuzz")
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK})
  list(APPEND args -max_total_time=${SECONDS} ${WORK} ${SEEDS} ${REGRESSION})
else()
  message(FATAL_ERROR "run_fuzzer.cmake: MODE must be regression or fuzz, not '${MODE}'")
endif()
execute_process(COMMAND ${FUZZER} ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${ARTIFACTS}/*)
  list(JOIN found "\n  " found)
  message(FATAL_ERROR "${NAME}: libFuzzer exited with ${rc}. What it found is in ${ARTIFACTS}:\n"
                      "  ${found}\nReproduce with `${FUZZER} <file>`; once fixed, the file belongs in "
                      "tests/fuzz/regression/${NAME}/ (if it is not there already).")
endif()
