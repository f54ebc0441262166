# Installs trignet into a scratch prefix, then builds tests/consumer against
# the installed package (C++20) and through add_subdirectory (C++17), runs both
# on the jet tagger and checks the scores. Usage:
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -P run_consumer_test.cmake

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${BINARY_DIR}/prefix)
file(REMOVE_RECURSE ${BINARY_DIR})
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}/trignet-build -DCMAKE_INSTALL_PREFIX=${prefix}
    -DTRIGNET_BUILD_TESTS=OFF -DTRIGNET_BUILD_TOOLS=OFF -DTRIGNET_BUILD_BENCHMARKS=OFF)
run(${CMAKE_COMMAND} --install ${BINARY_DIR}/trignet-build)
if(NOT EXISTS ${prefix}/include/trignet/trignet.hpp)
  message(FATAL_ERROR "headers were not installed under ${prefix}")
endif()

foreach(mode installed subdirectory)
  if(mode STREQUAL installed)
    set(args -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_STANDARD=20)
  else()
    set(args -DTRIGNET_SOURCE=${SOURCE_DIR} -DCMAKE_CXX_STANDARD=17)
  endif()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${BINARY_DIR}/${mode}
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD_REQUIRED=ON ${args})
  run(${CMAKE_COMMAND} --build ${BINARY_DIR}/${mode})
  run(${BINARY_DIR}/${mode}/consumer ${SOURCE_DIR}/models/jet_tagger.json)
  # Five labelled scores that sum to one.
  string(REGEX MATCHALL "[gqWZt] [0-9.]+" lines "${last_output}")
  list(LENGTH lines n)
  if(NOT n EQUAL 5)
    message(FATAL_ERROR "${mode}: expected 5 labelled scores, got:\n${last_output}")
  endif()
  message(STATUS "${mode} consumer output:\n${last_output}")
endforeach()

# The README's C++ example must be this program, so the README never shows
# code that does not compile.
file(READ ${SOURCE_DIR}/README.md readme)
file(READ ${SOURCE_DIR}/tests/consumer/main.cpp program)
string(FIND "${readme}" "${program}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "README.md's C++ example differs from tests/consumer/main.cpp")
endif()
