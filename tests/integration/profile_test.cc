// Integration tests for profile; filled in by the issue that owns them.
#include <gtest/gtest.h>
