# The layers of the C++ code, lowest first, and the one place that names them.
#
#   base        harness/base       errors, text, clock, sizes, stats, /proc files,
#                                  child tracking, output files, resource limits
#   machine     harness/machine    topology, placement, memory binding, shared
#                                  memory, machine facts, doctor
#   ranks       harness/ranks      waiting, the launcher of ranks, payloads
#   mechanisms  mechanisms/        the Link interface, one file per mechanism,
#                                  mechanisms/support (mailbox, fd_io, rendezvous,
#                                  peer access, fault injection)
#   scenarios   scenarios/         the patterns, scenarios/support (channel, group, fan)
#   app         harness/app        main, cli, commands, the benchmark matrix,
#                                  reporters, repetitions, the analysis bridge
#
# Code in a layer may include and link only its own layer and those before it.
# The build enforces it twice:
# - each layer's code is compiled against an include view, build/layers/NAME,
#   holding symbolic links to its own folders and those of the layers below
#   and nothing else, so an upward #include is "No such file" at compile time
#   (ctest's layers_refuse_upward_include proves it);
# - each layer is one static library linking only the layer below, so a call
#   upward is an undefined reference in the tests of the lower layer.
# harness/testing (test helpers) is in the views of tests only.

set(IPCATLAS_LAYERS base machine ranks mechanisms scenarios app)
set(IPCATLAS_LAYER_DIRS_base harness/base)
set(IPCATLAS_LAYER_DIRS_machine harness/machine)
set(IPCATLAS_LAYER_DIRS_ranks harness/ranks)
set(IPCATLAS_LAYER_DIRS_mechanisms mechanisms)
set(IPCATLAS_LAYER_DIRS_scenarios scenarios)
set(IPCATLAS_LAYER_DIRS_app harness/app)

# build/layers/NAME (and NAME-tests, which adds harness/testing): links to the
# folders of NAME and of every layer before it.
function(ipcatlas_make_layer_views)
  set(visible "")
  foreach(layer IN LISTS IPCATLAS_LAYERS)
    list(APPEND visible ${IPCATLAS_LAYER_DIRS_${layer}})
    foreach(view ${layer} ${layer}-tests)
      set(root ${CMAKE_BINARY_DIR}/layers/${view})
      file(REMOVE_RECURSE ${root})
      set(dirs ${visible})
      if(view MATCHES "-tests$")
        list(APPEND dirs harness/testing)
      endif()
      foreach(dir IN LISTS dirs)
        get_filename_component(parent ${root}/${dir} DIRECTORY)
        file(MAKE_DIRECTORY ${parent})
        file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${dir} ${root}/${dir} SYMBOLIC)
      endforeach()
    endforeach()
  endforeach()
endfunction()
ipcatlas_make_layer_views()

# The layer before `layer`, or "" for the first.
function(ipcatlas_layer_below layer out)
  list(FIND IPCATLAS_LAYERS ${layer} at)
  if(at LESS 0)
    message(FATAL_ERROR "unknown layer '${layer}' (cmake/layers.cmake names: ${IPCATLAS_LAYERS})")
  endif()
  set(below "")
  if(at GREATER 0)
    math(EXPR at "${at} - 1")
    list(GET IPCATLAS_LAYERS ${at} below)
  endif()
  set(${out} ${below} PARENT_SCOPE)
endfunction()

# ipcatlas_layer(NAME SOURCES...): the static library ipcatlas_NAME, compiled
# against its view and linking the layer below (and, through it, all others below).
function(ipcatlas_layer layer)
  add_library(ipcatlas_${layer} STATIC ${ARGN})
  target_include_directories(ipcatlas_${layer} PRIVATE ${CMAKE_BINARY_DIR}/layers/${layer})
  ipcatlas_layer_below(${layer} below)
  if(below)
    target_link_libraries(ipcatlas_${layer} PUBLIC ipcatlas_${below})
  endif()
endfunction()

# ipcatlas_layer_gtest(LAYER NAME SOURCES...): a GoogleTest executable of one
# layer, which sees and links that layer and those below only.
function(ipcatlas_layer_gtest layer name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_BINARY_DIR}/layers/${layer}-tests)
  target_link_libraries(${name} PRIVATE ipcatlas_${layer} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120)
endfunction()

# ipcatlas_layer_executable(LAYER NAME SOURCES...): a program of one layer.
function(ipcatlas_layer_executable layer name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_BINARY_DIR}/layers/${layer})
  target_link_libraries(${name} PRIVATE ipcatlas_${layer})
endfunction()
