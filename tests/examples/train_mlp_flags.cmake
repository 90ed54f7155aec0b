# Runs train_mlp with each bad flag set; each must exit 2 at once (before loading data or
# training) with a message that names the flag. Usage: cmake -DTRAIN_MLP=... -DSCRATCH=... -P
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}/readonly")
file(CHMOD "${SCRATCH}/readonly" PERMISSIONS OWNER_READ OWNER_EXECUTE)

# Each case: the arguments (separated by |) and a fragment the message must contain.
set(cases
  "--lr|-5|--lr must be >= 0"
  "--lr|nan|--lr must be a finite number"
  "--lr|inf|--lr must be a finite number"
  "--lr|junk|bad value 'junk' for --lr"
  "--weight-decay|-0.1|--weight-decay must be >= 0"
  "--weight-decay|inf|--weight-decay must be a finite number"
  "--dropout|nan|--dropout must be a finite number"
  "--dropout|1|--dropout must be in"
  "--seed|-1|--seed must not be negative"
  "--seed|1e3|bad value '1e3' for --seed"
  "--epochs|-1|--epochs must be >= 0"
  "--epochs|99999999999|bad value '99999999999' for --epochs"
  "--batch-size|0|--batch-size must be positive"
  "--hidden|0|--hidden widths must be positive"
  "--device|tpu|--device must be auto, cpu, cuda or cuda:N, got 'tpu'"
  "--device|cuda:-1|got 'cuda:-1'"
  "--lr|--lr needs a value"
  "--bogus|1|unknown option --bogus"
  "--save|${SCRATCH}/missing/model.ckpt|does not exist"
  "--save|${SCRATCH}|is a folder"
)
# Root writes into any folder, so the read-only case only means something for other users.
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT uid STREQUAL "0")
  list(APPEND cases "--save|${SCRATCH}/readonly/model.ckpt|cannot write into")
endif()

set(failures 0)
foreach(case IN LISTS cases)
  string(REPLACE "|" ";" parts "${case}")
  list(POP_BACK parts expect)
  execute_process(COMMAND "${TRAIN_MLP}" --data "${SCRATCH}/no-data" --epochs 0 ${parts}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
  string(FIND "${err}" "${expect}" at)
  if(NOT rc EQUAL 2 OR at EQUAL -1)
    message(SEND_ERROR "train_mlp ${parts}: exit ${rc} (expected 2), stderr lacks '${expect}':\n${err}")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
list(LENGTH cases count)
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} of ${count} bad flag sets were not usage errors")
endif()
message(STATUS "all ${count} bad flag sets exit 2 naming the flag")
