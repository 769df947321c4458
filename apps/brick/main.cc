#include "brick/cli/cli.h"

int main(int argc, char** argv) { return brick::cli::Main(argc, argv); }
