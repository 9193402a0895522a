#include "core/cli.h"
#include "tools/tools.h"

int cmd_addr(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_error("addr", CLI_FAIL, "not implemented yet");
}
