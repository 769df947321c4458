// Integration tests for cgroup_limits; filled in by the issue that owns them.
#include <gtest/gtest.h>
