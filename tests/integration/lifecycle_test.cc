// Integration tests for lifecycle; filled in by the issue that owns them.
#include <gtest/gtest.h>
