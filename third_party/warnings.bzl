"""The warning flags of the project's own C++ (core, TensorFlow glue, tests): all of -Wall and
-Wextra, as errors. TensorFlow's and googletest's headers come in as system headers (-isystem),
so their warnings do not count. -Wno-psabi: GCC's note that 32-byte vectors (the core's 8-lane
float vectors) pass differently with and without AVX, which changes nothing inside one library."""

WARNINGS = ["-Wall", "-Wextra", "-Werror", "-Wno-psabi"]
