#include "core/cli.h"
#include "tools/tools.h"

int cmd_lookup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("lookup", CLI_FAIL, "not implemented yet");
}
