# Finds Debian's MLIR 22 and sets up TableGen. Debian ships MLIR 22.1; the
# version file compares major.minor, so we ask for no version and check it.
find_package(MLIR REQUIRED CONFIG HINTS /usr/lib/llvm-22/lib/cmake/mlir)
if(NOT LLVM_VERSION_MAJOR EQUAL 22)
  message(FATAL_ERROR "graphopt needs MLIR 22, found LLVM ${LLVM_PACKAGE_VERSION}")
endif()
message(STATUS "graphopt: MLIR from ${MLIR_DIR} (LLVM ${LLVM_PACKAGE_VERSION})")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
include(TableGen)
include(AddLLVM)
include(AddMLIR)

# The imported targets carry no include directories or definitions.
include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
separate_arguments(GRAPHOPT_LLVM_DEFINITIONS NATIVE_COMMAND "${LLVM_DEFINITIONS}")
add_definitions(${GRAPHOPT_LLVM_DEFINITIONS})
include_directories(${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})

# libMLIR.so lives outside the loader path: everything linking it gets an RPATH.
set(GRAPHOPT_LLVM_LIBDIR "${LLVM_LIBRARY_DIR}")
set(CMAKE_BUILD_RPATH "${GRAPHOPT_LLVM_LIBDIR}")
set(CMAKE_INSTALL_RPATH "${GRAPHOPT_LLVM_LIBDIR}")

# Sanitizers: every finding aborts, so ctest, lit and the fuzzer fail on it.
if(GRAPHOPT_SANITIZE OR GRAPHOPT_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(GRAPHOPT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "GRAPHOPT_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-22")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
add_compile_options(-Wall -Wno-unused-parameter)
