// The one translation unit that compiles toml++'s implementation into brick_policy, so that
// the static brick binary does not need the library's shared object.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
