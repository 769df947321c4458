// Integration tests for seccomp_engine; filled in by the issue that owns them.
#include <gtest/gtest.h>
