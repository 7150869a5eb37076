/* tests/sys_rsync_args.sh's helper: for each rsync option on stdin (one
 * a line, "--name" or "--name=value"), print "ok ARG" or "refused ARG:
 * MESSAGE", as poni's config check judges it; with --list, print every
 * long option poni knows instead ("--name" or "--name=1"). */
#include <stdio.h>
#include <string.h>

#include "../src/rsync.h"

static void print(const char *name, bool value)
{
	printf("--%s%s\n", name, value ? "=1" : "");
}

int main(int argc, char *argv[])
{
	char line[512], msg[256];

	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		rsync_options_each(print);
		return 0;
	}
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (rsync_arg_check(line, msg, sizeof msg))
			printf("refused %s: %s\n", line, msg);
		else
			printf("ok %s\n", line);
	}
	return 0;
}
