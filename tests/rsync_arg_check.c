/* tests/sys_rsync_args.sh's helper: for each rsync option on stdin (one
 * a line, "--name" or "--name=value"), print "ok ARG" or "refused ARG:
 * MESSAGE", as poni's config check judges it. */
#include <stdio.h>
#include <string.h>

#include "../src/rsync.h"

int main(void)
{
	char line[512], msg[256];

	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (rsync_arg_check(line, msg, sizeof msg))
			printf("refused %s: %s\n", line, msg);
		else
			printf("ok %s\n", line);
	}
	return 0;
}
