// Must not compile: the base layer reaching up to the mechanisms layer.
// ctest's layers_refuse_upward_include builds it and expects the compiler to
// say the header does not exist (cmake/layers.cmake explains the views).
#include "harness/base/text.hpp"   // its own layer: found
#include "mechanisms/mechanism.hpp"  // a layer above: "No such file or directory"
