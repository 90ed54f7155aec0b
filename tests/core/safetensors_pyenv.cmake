# The safetensors interop test's Python: a virtual environment of the build's own at VENV with
# REQUIREMENTS pip-installed, made once (ctest's fixture) and kept while its stamp, a copy of
# the requirements, matches. Any failure, a missing python3 or no route to the package index
# included, fails the test with the reason: an interop test that quietly skips tests nothing.
#   cmake -DPYTHON=<python3> -DVENV=<dir> -DREQUIREMENTS=<file> -P safetensors_pyenv.cmake
set(stamp ${VENV}/ember-requirements.txt)
set(python ${VENV}/bin/python)
set(hint "scripts/install-deps.sh installs python3 and python3-venv")

file(READ ${REQUIREMENTS} wanted)
if(EXISTS ${stamp} AND EXISTS ${python})
  file(READ ${stamp} have)
  if(have STREQUAL wanted)
    execute_process(COMMAND ${python} -c "import safetensors, numpy" RESULT_VARIABLE rc
                    OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      message(STATUS "Python environment ${VENV} is up to date")
      return()
    endif()
  endif()
endif()

if(NOT PYTHON OR NOT EXISTS "${PYTHON}")
  message(FATAL_ERROR "no python3 was found when ember was configured (${hint}); "
                      "the safetensors interop test needs one")
endif()
file(REMOVE_RECURSE ${VENV})
execute_process(COMMAND ${PYTHON} -m venv ${VENV} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "'${PYTHON} -m venv ${VENV}' failed (${hint}):\n${err}")
endif()
# A short timeout and few retries: without a route to the index this fails in about a minute.
execute_process(COMMAND ${python} -m pip install --disable-pip-version-check --no-input
                        --timeout 15 --retries 2 -r ${REQUIREMENTS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pip could not install ${REQUIREMENTS} into ${VENV}: the safetensors "
                      "interop test needs the Python package index (or PIP_INDEX_URL / "
                      "PIP_FIND_LINKS naming wheels of those versions).\n${out}\n${err}")
endif()
file(COPY_FILE ${REQUIREMENTS} ${stamp})
message(STATUS "Python environment ${VENV} made with ${REQUIREMENTS}")
