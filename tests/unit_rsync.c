/* The rsync argv poni builds, rsync_opts checking, exit codes, and the
 * quoting of argv in the log. */
#include <stdlib.h>

#include "../src/rsync.h"
#include "../src/spawn.h"
#include "unit.h"

static char *joined(char **argv)
{
	char *s = argv_format(argv);

	argv_free(argv);
	return s;
}

static struct sync_conf base(void)
{
	struct sync_conf c;

	memset(&c, 0, sizeof c);
	c.source = "/opt/dir1";
	c.remote_path = "/opt";
	c.rsync_opts = "azP";
	c.rsync = "rsync";
	c.ssh = "ssh";
	c.port = 22;
	c.transport = TRANSPORT_LOCAL;
	c.strict_host_key = HOSTKEY_ACCEPT_NEW;
	return c;
}

int main(void)
{
	char msg[256], *s;
	struct sync_conf c;
	static char *ex[] = { "*.tmp", "cache dir/" };
	struct rsync_run full = { .modify_window = -1 }, listed = { .from_list = true, .modify_window = -1 };

	TEST("rsync argv: a local copy") {
		c = base();
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=-1' '/opt/dir1' '/opt/'");
		free(s);
	}
	TEST("rsync argv: delete and exclude") {
		c = base();
		c.delete = true;
		c.exclude = ex;
		c.nexclude = 2;
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=-1' '--delete' '--exclude=*.tmp' '--exclude=cache dir/' '/opt/dir1' '/opt/'");
		free(s);
	}
	TEST("rsync argv: over ssh with port, key, user, host key policy") {
		c = base();
		c.transport = TRANSPORT_SSH;
		c.remote_host = "nycweb1";
		c.remote_user = "jsmith";
		c.priv_key = "/home/jsmith/.ssh/id_rsa";
		c.port = 1122;
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=-1' '--protect-args' '--timeout=120' '-e' 'ssh -p 1122 -i /home/jsmith/.ssh/id_rsa -l jsmith "
		    "-o BatchMode=yes -o StrictHostKeyChecking=accept-new' '/opt/dir1' 'nycweb1:/opt/'");
		free(s);
	}
	TEST("rsync argv: known_hosts, strict no, and a key path with spaces and quotes") {
		c = base();
		c.transport = TRANSPORT_SSH;
		c.remote_host = "::1";
		c.priv_key = "/keys/my 'key";
		c.strict_host_key = HOSTKEY_NO;
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=-1' '--protect-args' '--timeout=120' '-e' 'ssh -p 22 -i '\\''/keys/my '\\'''\\''key'\\'' "
		    "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' "
		    "'/opt/dir1' '[::1]:/opt/'");
		free(s);
		c.strict_host_key = HOSTKEY_YES;
		c.known_hosts = "/etc/poni/known_hosts";
		c.priv_key = "/k";
		c.rsync_opts = "";
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '--modify-window=-1' '--protect-args' '--timeout=120' '-e' 'ssh -p 22 -i /k -o BatchMode=yes -o StrictHostKeyChecking=yes "
		    "-o UserKnownHostsFile=/etc/poni/known_hosts' '/opt/dir1' '[::1]:/opt/'");
		free(s);
	}
	TEST("rsync argv: a run from the list of changed paths") {
		char *prefix, *basedir;
		c = base();
		c.delete = true;
		s = joined(rsync_argv(&c, &listed));
		CHECK_STR(s, "'rsync' '-az' '-r' '--ignore-times' '--files-from=-' '--from0' "
		    "'--delete-missing-args' '--delete' '/opt/' '/opt/'");
		free(s);
		c.delete = false;
		c.rsync_opts = "lptz";
		c.source = "/opt/dir1/";
		s = joined(rsync_argv(&c, &listed));
		CHECK_STR(s, "'rsync' '-lptz' '--ignore-times' '--files-from=-' '--from0' "
		    "'--ignore-missing-args' '/opt/dir1/' '/opt/'");
		free(s);
		c.source = "/dir1";
		basedir = rsync_list_base(&c, &prefix);
		CHECK_STR(basedir, "/");
		CHECK_STR(prefix, "dir1/");
		free(basedir);
		free(prefix);
	}
	TEST("rsync argv: listed paths whose attributes alone changed: a quick check") {
		struct rsync_run quick = { .from_list = true, .quick = true, .modify_window = -1 };
		c = base();
		c.delete = true;
		s = joined(rsync_argv(&c, &quick));
		CHECK_STR(s, "'rsync' '-az' '-r' '--modify-window=-1' '--files-from=-' '--from0' "
		    "'--delete-missing-args' '--delete' '/opt/' '/opt/'");
		free(s);
		quick.flat = true;
		quick.modify_window = 1;
		s = joined(rsync_argv(&c, &quick));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=1' '--files-from=-' '--from0' "
		    "'--delete-missing-args' '--delete' '/opt/' '/opt/'");
		free(s);
		quick.size_only = true;
		s = joined(rsync_argv(&c, &quick));
		CHECK_STR(s, "'rsync' '-az' '--size-only' '--files-from=-' '--from0' "
		    "'--delete-missing-args' '--delete' '/opt/' '/opt/'");
		free(s);
	}
	TEST("rsync argv: P is dropped, so no partial file replaces a good copy") {
		c = base();
		c.rsync_opts = "PaPvP";
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '-av' '--modify-window=-1' '/opt/dir1' '/opt/'");
		free(s);
		c.rsync_opts = "P";
		s = joined(rsync_argv(&c, &listed));
		CHECK_STR(s, "'rsync' '--ignore-times' '--files-from=-' '--from0' "
		    "'--ignore-missing-args' '/opt/' '/opt/'");
		free(s);
	}
	TEST("rsync argv: a seen change of a file source, a flat list (recurse: false)") {
		struct rsync_run file = { .ignore_times = true, .modify_window = -1 };
		struct rsync_run flat = { .from_list = true, .flat = true };
		c = base();
		c.source = "/var/log/syslog";
		s = joined(rsync_argv(&c, &file));
		CHECK_STR(s, "'rsync' '-az' '--ignore-times' '/var/log/syslog' '/opt/'");
		free(s);
		c = base();
		s = joined(rsync_argv(&c, &flat));
		CHECK_STR(s, "'rsync' '-az' '--ignore-times' '--files-from=-' '--from0' "
		    "'--ignore-missing-args' '/opt/' '/opt/'");
		free(s);
	}
	TEST("rsync argv: a source that is a symbolic link: what it points to, under its name") {
		struct rsync_run lf = { .via_link = true, .modify_window = -1 };
		struct rsync_run ll = { .via_link = true, .from_list = true };
		c = base();
		c.source = "/srv/current";
		c.remote_path = "/backup/";
		s = joined(rsync_argv(&c, &lf));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=-1' '--relative' '/srv/./current/' '/backup/'");
		free(s);
		s = joined(rsync_argv(&c, &ll));	/* "current/x" goes through the link */
		CHECK_STR(s, "'rsync' '-az' '-r' '--ignore-times' '--files-from=-' '--from0' "
		    "'--ignore-missing-args' '/srv/' '/backup/'");
		free(s);
		c.source = "/current";
		s = joined(rsync_argv(&c, &lf));
		CHECK_CONTAINS(s, "'--relative' '/./current/' '/backup/'");
		free(s);
	}
	TEST("rsync argv: the delete guard and a coarse target's modify window") {
		struct rsync_run r = { .guard = true, .modify_window = 1 };
		c = base();
		c.delete = true;
		s = joined(rsync_argv(&c, &r));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=1' '--delete' '--max-delete=0' "
		    "'/opt/dir1' '/opt/'");
		free(s);
		c.delete = false;	/* nothing to guard without delete */
		s = joined(rsync_argv(&c, &r));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=1' '/opt/dir1' '/opt/'");
		free(s);
	}
	TEST("ssh argv: a known_hosts path with spaces is quoted for ssh") {
		c = base();
		c.transport = TRANSPORT_SSH;
		c.remote_host = "h";
		c.priv_key = "/k";
		c.known_hosts = "/my hosts/kh";
		s = joined(ssh_argv(&c, NULL, NULL, NULL));
		CHECK_CONTAINS(s, "'UserKnownHostsFile=\"/my hosts/kh\"'");
		free(s);
		c.ssh = "/usr/bin/dbclient";
		c.strict_host_key = HOSTKEY_ACCEPT_NEW;
		s = joined(ssh_argv(&c, NULL, NULL, NULL));
		CHECK_STR(s, "'/usr/bin/dbclient' '-p' '22' '-i' '/k' '-y'");
		free(s);
	}
	TEST("rsync_opts: argument-less flags pass") {
		CHECK(rsync_opts_check("azP", msg, sizeof msg) == NULL);
		CHECK(rsync_opts_check("avzHAXc", msg, sizeof msg) == NULL);
		CHECK(rsync_opts_check("", msg, sizeof msg) == NULL);
	}
	TEST("rsync_opts: azBP is refused naming -B's argument") {
		CHECK(rsync_opts_check("azBP", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "'B'");
		CHECK_CONTAINS(msg, "--block-size");
		CHECK_CONTAINS(msg, "'P' as its SIZE");
	}
	TEST("rsync_opts: letters taking arguments, unknown letters, -V") {
		CHECK(rsync_opts_check("ae", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "--rsh");
		CHECK(rsync_opts_check("aT", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "--temp-dir");
		CHECK(rsync_opts_check("af", msg, sizeof msg) != NULL);
		CHECK(rsync_opts_check("aM", msg, sizeof msg) != NULL);
		CHECK(rsync_opts_check("a@", msg, sizeof msg) != NULL);
		CHECK(rsync_opts_check("aQ", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "'Q' is not an rsync short option");
		CHECK(rsync_opts_check("aV", msg, sizeof msg) != NULL);
		CHECK(rsync_opts_check("a z", msg, sizeof msg) != NULL);
		CHECK(rsync_opts_check("a-z", msg, sizeof msg) != NULL);
	}
	TEST("rsync_args: rsync's long options pass, with or without a value as rsync wants") {
		static const char *const good[] = {
			"--bwlimit=500", "--chmod=D755,F644", "--numeric-ids", "--inplace",
			"--backup", "--backup-dir=../old", "--compress-level=9", "--max-size=10M",
			"--sparse", "--fake-super", "--iconv=utf8,latin1", "--chown=a:b",
			"--no-perms", "--no-W", "--timeout=600", "--rsync-path=sudo rsync",
			"--partial-dir=.rsync-partial", "--link-dest=/x", "--8-bit-output", "--zl=3",
		};
		size_t i;
		for (i = 0; i < sizeof good / sizeof *good; i++) {
			CHECK(rsync_arg_check(good[i], msg, sizeof msg) == NULL);
			if (unit_failed_now)
				printf("  %s: %s\n", good[i], msg);
		}
	}
	TEST("rsync_args: unknown options are refused naming the nearest known one") {
		CHECK(rsync_arg_check("--bwlimt=5", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "did you mean --bwlimit?");
		CHECK(rsync_arg_check("--numeric-id", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "did you mean --numeric-ids?");
		CHECK(rsync_arg_check("--xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", msg, sizeof msg) != NULL);
		CHECK(rsync_arg_check("--", msg, sizeof msg) != NULL);
		CHECK(rsync_arg_check("-H", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "short flags go in rsync_opts");
		CHECK(rsync_arg_check("bwlimit=5", msg, sizeof msg) != NULL);
	}
	TEST("rsync_args: a value missing, one too many, one with a space or a line break") {
		CHECK(rsync_arg_check("--bwlimit", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "--bwlimit=VALUE");
		CHECK(rsync_arg_check("--numeric-ids=yes", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "takes no value");
		CHECK(rsync_arg_check("--bwlimit 5", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "--name=value");
		CHECK(rsync_arg_check("--chmod=a\nb", msg, sizeof msg) != NULL);
	}
	TEST("rsync_args: what poni gives itself, or what would break it, names the key to use") {
		static const struct { const char *arg, *want; } bad[] = {
			{ "--files-from=x", "poni runs rsync itself" }, { "--from0", "poni runs rsync" },
			{ "--rsh=ssh", "poni runs rsync" }, { "--server", "poni runs rsync" },
			{ "--daemon", "poni runs rsync" }, { "--delete", "delete: true" },
			{ "--delete-after", "delete: true" }, { "--del", "delete: true" },
			{ "--max-delete=5", "delete: true" }, { "--exclude=*.o", "use exclude" },
			{ "--exclude-from=f", "use exclude" }, { "--include=x", "use exclude" },
			{ "--filter=- x", "use exclude" }, { "--cvs-exclude", "use exclude" },
			{ "--dry-run", "simulate" }, { "--list-only", "simulate" },
			{ "--remove-source-files", "delete the source" }, { "--version", "print and exit" },
			{ "--help", "print" }, { "--progress", "flood the log" }, { "--info=progress2", "log" },
			{ "--partial", "--partial-dir" }, { "--relative", "as each run needs" },
			{ "--ignore-times", "as each run needs" }, { "--no-r", "as each run needs" },
			{ "--modify-window=1", "use modify_window" }, { "--old-args", "never a shell" },
			{ "--no-protect-args", "never a shell" }, { "--port=873", "use port" },
			{ "--password-file=p", "priv_key" },
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof *bad; i++) {
			CHECK(rsync_arg_check(bad[i].arg, msg, sizeof msg) != NULL);
			CHECK_CONTAINS(msg, bad[i].want);
			if (unit_failed_now)
				printf("  %s: %s\n", bad[i].arg, msg);
		}
	}
	TEST("rsync_opts: long options after the letters, as the original Poni's users write them") {
		const char *p;
		char arg[64];
		CHECK(rsync_opts_check("azP --bwlimit=100", msg, sizeof msg) == NULL);
		CHECK(rsync_opts_check("azP --bwlimit 100 --numeric-ids", msg, sizeof msg) == NULL);
		CHECK(rsync_opts_check("--inplace", msg, sizeof msg) == NULL);
		CHECK(rsync_opts_letters("azP --inplace") == 3);
		CHECK(rsync_opts_letters("--inplace") == 0);
		CHECK(rsync_opts_check("azP --bwlimit", msg, sizeof msg) != NULL);
		CHECK(rsync_opts_check("azP --delete", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "delete: true");
		CHECK(rsync_opts_check("azBP --inplace", msg, sizeof msg) != NULL);
		CHECK_CONTAINS(msg, "'B' (--block-size=SIZE) takes an argument, so rsync would read 'P' as");
		p = "azP  --bwlimit 100   --numeric-ids --chmod=F644 ";
		p += rsync_opts_letters(p);
		CHECK(rsync_opts_next(&p, arg, sizeof arg) == 13);
		CHECK_STR(arg, "--bwlimit=100");
		CHECK(rsync_opts_next(&p, arg, sizeof arg) == 13);
		CHECK_STR(arg, "--numeric-ids");
		CHECK(rsync_opts_next(&p, arg, sizeof arg) == 12);
		CHECK_STR(arg, "--chmod=F644");
		CHECK(rsync_opts_next(&p, arg, sizeof arg) == 0);
	}
	TEST("rsync argv: rsync_args come after poni's own options, before the paths") {
		static char *args[] = { "--bwlimit=500", "--timeout=600" };
		c = base();
		c.transport = TRANSPORT_SSH;
		c.remote_host = "h";
		c.priv_key = "/k";
		c.rsync_args = args;
		c.nrsync_args = 2;
		s = joined(rsync_argv(&c, &full));
		CHECK_CONTAINS(s, "'--timeout=120' '-e' 'ssh -p 22 -i /k -o BatchMode=yes -o StrictHostKeyChecking=accept-new' "
		    "'--bwlimit=500' '--timeout=600' '/opt/dir1' 'h:/opt/'");
		free(s);
	}
	TEST("rsync argv: an rsync daemon's module, with a password file") {
		c = base();
		c.transport = TRANSPORT_RSYNCD;
		c.remote_host = "nas";
		c.remote_user = "poni";
		c.port = 873;
		c.module = "backup";
		c.remote_path = "in/here";
		c.password_file = "/etc/poni/pw";
		s = joined(rsync_argv(&c, &full));
		CHECK_STR(s, "'rsync' '-az' '--modify-window=-1' '--timeout=120' '--contimeout=30' "
		    "'--password-file=/etc/poni/pw' '/opt/dir1' 'rsync://poni@nas:873/backup/in/here/'");
		free(s);
		c.remote_path = "";
		c.remote_user = NULL;
		c.password_file = NULL;
		c.remote_host = "fd00::1";
		s = joined(rsync_argv(&c, &listed));
		CHECK_CONTAINS(s, "'--files-from=-'");
		CHECK_CONTAINS(s, "'/opt/' 'rsync://[fd00::1]:873/backup/'");
		free(s);
	}
	TEST("rsync exit codes: 0 and 24 are success, 23 is not") {
		CHECK(rsync_exit_ok(0));
		CHECK(rsync_exit_ok(24));
		CHECK(!rsync_exit_ok(23));
		CHECK(!rsync_exit_ok(255));
		CHECK_STR(rsync_exit_meaning(23), "partial transfer due to error");
		CHECK_STR(rsync_exit_meaning(99), "unknown error");
	}
	TEST("argv_format: quotes show where each argument starts and ends") {
		char *argv[] = { "a b", "it's", "new\nline", "tab\there", "caf\xc3\xa9", "", NULL };
		s = argv_format(argv);
		CHECK_STR(s, "'a b' 'it'\\''s' $'new\\nline' $'tab\\there' $'caf\\xc3\\xa9' ''");
		free(s);
	}
	UNIT_EXIT();
}
