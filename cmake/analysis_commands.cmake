# The analysis commands (plot, thresholds, ...) are listed once, in
# analysis/ipcatlas_analysis/commands.json, which the Python package reads.
# ipcatlas_generate_analysis_commands(JSON OUTPUT) turns that list into the
# C++ table kAnalysisCommands (harness/app/analysis_command.hpp) at configure
# time, and makes an edit of the JSON file re-run the configuration, so the
# binary's `--help` and dispatch can never disagree with Python's.
function(ipcatlas_generate_analysis_commands json_path output)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${json_path})
  file(READ ${json_path} json)
  string(JSON count ERROR_VARIABLE error LENGTH "${json}")
  if(error OR count EQUAL 0)
    message(FATAL_ERROR "${json_path}: expected a non-empty JSON array of commands (${error})")
  endif()
  set(rows "")
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    foreach(field name summary)
      string(JSON ${field} ERROR_VARIABLE error GET "${json}" ${i} ${field})
      if(error OR "${${field}}" STREQUAL "")
        message(FATAL_ERROR "${json_path}: command ${i} has no \"${field}\" (${error})")
      endif()
    endforeach()
    # Raw string literals: a summary may hold quotes or backslashes.
    string(APPEND rows "    {R\"ipcatlas(${name})ipcatlas\", R\"ipcatlas(${summary})ipcatlas\"},\n")
  endforeach()
  # Written only when the content changes, so an unchanged list does not rebuild.
  file(CONFIGURE OUTPUT ${output} @ONLY CONTENT
"// Generated from analysis/ipcatlas_analysis/commands.json by cmake/analysis_commands.cmake: edit the JSON.
#include \"harness/app/analysis_command.hpp\"

namespace ipcatlas {

const std::vector<AnalysisCommandInfo> kAnalysisCommands = {
@rows@};

}  // namespace ipcatlas
")
endfunction()
