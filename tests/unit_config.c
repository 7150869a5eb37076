/* The config builder and validator through the YAML front end: every
 * key, defaults merging, both sync forms, and every refusal class with
 * the line it names. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/config.h"
#include "../src/config_yaml.h"
#include "unit.h"

static char error[1024];

/* Parse text as the file "t.yml"; NULL with error set when refused. */
static struct config *parse(const char *text, int flags)
{
	struct config_builder *b = config_builder_new("t.yml");
	struct config *c = NULL;

	error[0] = '\0';
	if (config_yaml_feed(b, text, strlen(text)) == 0)
		c = config_finish(b, flags);
	if (!c)
		snprintf(error, sizeof error, "%s", config_error(b));
	config_builder_free(b);
	return c;
}

/* text must be refused with a message starting "t.yml:LINE" and
 * containing want. */
#define REFUSED(text, line, want) do { \
	struct config *c_ = parse(text, 0); \
	char where_[32]; \
	if (line) snprintf(where_, sizeof where_, "t.yml:%d:", line); \
	else snprintf(where_, sizeof where_, "t.yml: "); \
	CHECK(c_ == NULL); \
	config_free(c_); \
	CHECK(strncmp(error, where_, strlen(where_)) == 0); \
	CHECK_CONTAINS(error, want); \
	if (unit_failed_now) printf("  message was: %s\n", error); \
} while (0)

static const char spec_example[] =
	"log: /var/log/poni.log\n"
	"\n"
	"defaults:\n"
	"  remote_host: default-host-name\n"
	"  remote_user: default-user-name\n"
	"  remote_path: /default/path/on/remote/host\n"
	"  priv_key: /root/.ssh/id_rsa\n"
	"  interval: 3\n"
	"\n"
	"sync:\n"
	"    /opt/dir1:\n"
	"        remote_host: nycweb1                ## target host\n"
	"        remote_path: /opt                   ## target path on remote host\n"
	"        remote_user: jsmith\n"
	"        priv_key: /home/jsmith/.ssh/id_rsa\n"
	"        port: 1122\n"
	"        rsync_opts: azP\n"
	"        interval: 15\n"
	"        recurse: true\n"
	"    /home/user/dir1: []   # all defaults\n"
	"    /var/log/syslog:\n"
	"        remote_host: web9\n"
	"        remote_path: /mnt/backup/logs/host123\n";

static const char upstream_example[] =
	"sync:\n"
	"    /opt/dir1:\n"
	"        remote_host: nycweb1                ## target host\n"
	"        remote_path: /opt                   ## target path on remote host\n"
	"        remote_user: jsmith                 ## user which will initiate rsync\n"
	"        priv_key: /home/jsmith/.ssh/id_rsa  ## path to user's private SSH key\n"
	"        port: 1122                          ## custom SSH port, default = 22\n"
	"        rsync_opts: azBP                    ## additional Rsync flags (default: azP)\n"
	"        interval: 15                        ## sleep time in seconds before rsyncing on a change, default = 3\n"
	"        recurse: true                       ## watch directories recursively for changes, default = false\n"
	"\n"
	"        /var/log/syslog:\n";

static const char upstream_defaults[] =
	"defaults:\n"
	"  remote_host: default-host-name\n"
	"  remote_user: default-user-name\n"
	"  remote_path: /default/path/on/remote/host\n"
	"  priv_key: default-ssh-key\n"
	"  interval: 3\n"
	"\n"
	"sync:\n"
	"  /home/user/dir1: []  # this sync will use all the default values above\n"
	"  \n"
	"  /home/bob/files: []  # this sync will use all the default values above\n"
	"  \n"
	"  /opt/dir:\n"
	"    interval: 30  # this sync will use all default values except for Interval\n";

int main(void)
{
	struct config *c;
	struct sync_conf *s;

	TEST("config: the spec's example is accepted as it is") {
		c = parse(spec_example, 0);
		CHECK(c != NULL);
		if (c) {
			CHECK_STR(c->log, "/var/log/poni.log");
			CHECK(c->nsyncs == 3);
			s = &c->syncs[0];
			CHECK_STR(s->source, "/opt/dir1");
			CHECK_STR(s->remote_host, "nycweb1");
			CHECK_STR(s->remote_user, "jsmith");
			CHECK_STR(s->priv_key, "/home/jsmith/.ssh/id_rsa");
			CHECK(s->port == 1122);
			CHECK(s->interval_ms == 15000);
			CHECK(s->recurse);
			CHECK(s->transport == TRANSPORT_SSH);
			s = &c->syncs[1];	/* [] : all defaults */
			CHECK_STR(s->source, "/home/user/dir1");
			CHECK_STR(s->remote_host, "default-host-name");
			CHECK_STR(s->remote_user, "default-user-name");
			CHECK_STR(s->remote_path, "/default/path/on/remote/host");
			CHECK_STR(s->priv_key, "/root/.ssh/id_rsa");
			CHECK(s->interval_ms == 3000);
			CHECK(s->port == 22);
			CHECK_STR(s->rsync_opts, "azP");
			CHECK(!s->recurse && !s->delete && s->initial_sync);
			CHECK(s->strict_host_key == HOSTKEY_ACCEPT_NEW);
			s = &c->syncs[2];
			CHECK_STR(s->remote_host, "web9");
			CHECK_STR(s->remote_user, "default-user-name");
		}
		config_free(c);
	}
	TEST("config: the original README's azBP is refused, naming -B's argument") {
		REFUSED(upstream_example, 8, "'B' (--block-size=SIZE) takes an argument");
		CHECK_CONTAINS(error, "'P' as its SIZE");
	}
	TEST("config: the original README's defaults example is accepted") {
		c = parse(upstream_defaults, 0);
		CHECK(c && c->nsyncs == 3);
		if (c) {
			CHECK(c->syncs[2].interval_ms == 30000);
			CHECK(c->syncs[1].interval_ms == 3000);
			/* relative to the config file's directory */
			CHECK_STR(c->syncs[0].priv_key, "./default-ssh-key");
		}
		config_free(c);
	}
	TEST("config: a local copy needs no host and no key") {
		c = parse("sync:\n  /src/:\n    remote_path: /dst\n", 0);
		CHECK(c && c->syncs[0].transport == TRANSPORT_LOCAL);
		CHECK(c && c->syncs[0].remote_host == NULL);
		CHECK(c && strcmp(c->log, "stdout") == 0 && c->log_level == L_INFO);
		config_free(c);
		c = parse("sync:\n  /src:\n    remote_host: localhost\n    remote_path: /dst\n", 0);
		CHECK(c && c->syncs[0].transport == TRANSPORT_LOCAL);
		config_free(c);
	}
	TEST("config: every per-sync key") {
		c = parse("sync:\n"
		    "  web:\n"
		    "    source_path: /srv/www/\n"
		    "    remote_host: 127.0.0.1\n"
		    "    remote_user: bob\n"
		    "    remote_path: /backup/www\n"
		    "    priv_key: /k\n"
		    "    port: 2222\n"
		    "    rsync_opts: -avz\n"
		    "    interval: 0.25\n"
		    "    recurse: yes\n"
		    "    delete: On\n"
		    "    exclude: ['*.tmp', \"cache dir/\"]\n"
		    "    initial_sync: false\n"
		    "    transport: ssh\n"
		    "    ssh: /usr/local/bin/ssh\n"
		    "    rsync: /opt/bin/rsync\n"
		    "    strict_host_key: yes\n"
		    "    known_hosts: /etc/poni/known_hosts\n"
		    "    full_sync: 12h\n"
		    "    delete_guard: no\n"
		    "    modify_window: 1\n", 0);
		CHECK(c != NULL);
		if (c) {
			s = &c->syncs[0];
			CHECK_STR(s->name, "web");
			CHECK_STR(s->source, "/srv/www/");
			CHECK(s->port == 2222);
			CHECK_STR(s->rsync_opts, "avz");
			CHECK(s->interval_ms == 250);
			CHECK(s->recurse && s->delete && !s->initial_sync);
			CHECK(s->nexclude == 2);
			CHECK(s->nexclude == 2 && strcmp(s->exclude[1], "cache dir/") == 0);
			CHECK(s->transport == TRANSPORT_SSH);
			CHECK_STR(s->ssh, "/usr/local/bin/ssh");
			CHECK_STR(s->rsync, "/opt/bin/rsync");
			CHECK(s->strict_host_key == HOSTKEY_YES);
			CHECK_STR(s->known_hosts, "/etc/poni/known_hosts");
			CHECK(s->full_sync_ms == 12LL * 3600 * 1000);
			CHECK(!s->delete_guard && s->modify_window == 1);
		}
		config_free(c);
	}
	TEST("config: full_sync, delete_guard and modify_window: defaults and units") {
		c = parse("defaults:\n  full_sync: 90m\nsync:\n"
		    "  /a: {remote_path: /b}\n"
		    "  /c: {remote_path: /d, full_sync: 0}\n"
		    "  /e: {remote_path: /f, full_sync: 1.5d}\n"
		    "  /g: {remote_path: /h, full_sync: 30s}\n"
		    "  /i: {remote_path: /j, full_sync: 7200}\n", 0);
		CHECK(c != NULL);
		if (c) {
			CHECK(c->syncs[0].full_sync_ms == 90LL * 60 * 1000);
			CHECK(c->syncs[1].full_sync_ms == 0);
			CHECK(c->syncs[2].full_sync_ms == 36LL * 3600 * 1000);
			CHECK(c->syncs[3].full_sync_ms == 30000);
			CHECK(c->syncs[4].full_sync_ms == 7200000);
			CHECK(c->syncs[0].delete_guard && c->syncs[0].modify_window == -1);
		}
		config_free(c);
		c = parse("sync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && c->syncs[0].full_sync_ms == 24LL * 3600 * 1000);
		config_free(c);
		c = parse("sync:\n  /a: {remote_path: /b, interval: 2m, retry_max: 1h}\n", 0);
		CHECK(c && c->syncs[0].interval_ms == 120000 && c->syncs[0].retry_max_ms == 3600000);
		config_free(c);
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    full_sync: 367d\n", 4, "0 to 31622400");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    full_sync: 1w\n", 4, "units like 90m");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    full_sync: h\n", 4, "seconds");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    interval: 2d\n", 4, "0 to 86400");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    modify_window: -1\n", 4, "0 to 3600");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    modify_window: 1.5\n", 4, "whole number");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    delete_guard: perhaps\n", 4, "true or false");
	}
	TEST("config refused: a local copy in, on or around its own source") {
		/* the cases: target inside the source, equal to it */
		REFUSED("sync:\n  /srv/data:\n    remote_path: /srv/data/backup\n", 3,
		    "inside the source");
		REFUSED("sync:\n  /opt/dir1:\n    remote_path: /opt\n", 3, "on the source itself");
		REFUSED("sync:\n  /opt/dir1/:\n    remote_path: /opt/dir1\n", 3, "on the source itself");
		REFUSED("sync:\n  /opt/dir1:\n    remote_path: /opt/dir1\n", 3, "inside the source");
		REFUSED("sync:\n  /opt/dir1/:\n    remote_path: /opt/dir1//sub/\n", 3, "inside the source");
		REFUSED("sync:\n  /var/log/syslog:\n    remote_path: /var/log/\n", 3, "on the source itself");
		/* the source in the target's tree: a run copies onto itself */
		REFUSED("sync:\n  /srv/a/b/:\n    remote_path: /srv/a\n", 3, "the source is inside the copy");
		REFUSED("sync:\n  /srv/a/b/:\n    remote_path: /\n", 3, "the source is inside the copy");
		REFUSED("sync:\n  /srv/a/b/:\n    remote_path: /srv/x/../a/./\n", 3, "inside the copy");
		REFUSED("defaults:\n  remote_path: /srv\nsync:\n  /srv/www/: []\n", 2,
		    "choose a remote_path outside the source");
		/* symbolic links are followed as far as the paths exist */
		{
			char dir[] = "/tmp/poni-unit.XXXXXX", text[512], path[300];
			if (mkdtemp(dir)) {
				snprintf(path, sizeof path, "%s/real", dir);
				mkdir(path, 0700);
				snprintf(text, sizeof text, "%s/link", dir);
				CHECK(symlink(path, text) == 0);
				snprintf(text, sizeof text,
				    "sync:\n  %s/link/data:\n    remote_path: %s/real\n", dir, dir);
				REFUSED(text, 3, "on the source itself");
				snprintf(text, sizeof text, "%s/link", dir);
				unlink(text);
				rmdir(path);
				rmdir(dir);
			}
		}
		/* neighbours are fine, and so is any path over ssh */
		c = parse("sync:\n  /srv/data:\n    remote_path: /srv/data-backup\n"
		    "  /srv/www/:\n    remote_path: /srv/www2\n"
		    "  /opt/dir1:\n    remote_path: /opt/dir2\n"
		    "  /x/y:\n    remote_path: /opt\n    remote_host: b1\n    priv_key: /k\n", 0);
		CHECK(c != NULL);
		if (!c)
			printf("  message was: %s\n", error);
		config_free(c);
	}
	TEST("config: one source to two targets with source_path") {
		c = parse("sync:\n"
		    "  to-a: {source_path: /data, remote_path: /a}\n"
		    "  to-b:\n    source_path: /data\n    remote_path: /b\n", 0);
		CHECK(c && c->nsyncs == 2);
		CHECK(c && strcmp(c->syncs[1].source, "/data") == 0);
		CHECK(c && strcmp(c->syncs[1].remote_path, "/b") == 0);
		config_free(c);
	}
	TEST("config: exclude as block list, single value, and inherited from defaults") {
		c = parse("defaults:\n  exclude:\n  - '*.o'\n  - '*.tmp'\n  remote_path: /d\n"
		    "sync:\n  /a: ~\n  /b:\n    exclude: core\n", 0);
		CHECK(c && c->syncs[0].nexclude == 2);
		CHECK(c && c->syncs[1].nexclude == 1 && strcmp(c->syncs[1].exclude[0], "core") == 0);
		config_free(c);
	}
	TEST("config: empty values mean 'not set here', so defaults apply") {
		c = parse("defaults:\n  remote_path: /d\n  interval: 7\n"
		    "sync:\n  /a:\n    interval:\n    remote_path: ~\n  /b: {}\n  /c:\n", 0);
		CHECK(c && c->nsyncs == 3);
		CHECK(c && c->syncs[0].interval_ms == 7000);
		CHECK(c && strcmp(c->syncs[2].remote_path, "/d") == 0);
		config_free(c);
	}
	TEST("config: log and log_level, and the upstream mapping form") {
		c = parse("log: syslog\nlog_level: DEBUG\nsync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && strcmp(c->log, "syslog") == 0 && c->log_level == L_DEBUG);
		config_free(c);
		c = parse("log: {destination: /var/log/p.log, level: warning}\nsync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && strcmp(c->log, "/var/log/p.log") == 0 && c->log_level == L_WARNING);
		config_free(c);
		c = parse("log:\n  destination: stderr\n  level: error\nsync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && strcmp(c->log, "stderr") == 0 && c->log_level == L_ERROR);
		config_free(c);
	}
	TEST("config: max_runs, at the top level, with its default") {
		c = parse("sync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && c->max_runs == MAX_RUNS_DEFAULT && MAX_RUNS_DEFAULT == 4);
		config_free(c);
		c = parse("max_runs: 1\nsync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && c->max_runs == 1);
		config_free(c);
		c = parse("max_runs: 1000\nsync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && c->max_runs == 1000);
		config_free(c);
		c = parse("max_runs: ~\nsync:\n  /a: {remote_path: /b}\n", 0);
		CHECK(c && c->max_runs == MAX_RUNS_DEFAULT);
		config_free(c);
	}
	TEST("config refused: max_runs out of range, in a sync, twice") {
		REFUSED("max_runs: 0\nsync:\n  /a: {remote_path: /b}\n", 1,
		    "max_runs: '0' is not a number of rsyncs to run at once: use 1 to 1000");
		REFUSED("log: stderr\nmax_runs: 1001\nsync:\n  /a: {remote_path: /b}\n", 2, "use 1 to 1000");
		REFUSED("max_runs: -1\nsync:\n  /a: {remote_path: /b}\n", 1, "use 1 to 1000");
		REFUSED("max_runs: four\nsync:\n  /a: {remote_path: /b}\n", 1, "use 1 to 1000");
		REFUSED("max_runs: 2.5\nsync:\n  /a: {remote_path: /b}\n", 1, "use 1 to 1000");
		REFUSED("max_runs: 99999999999999999999\nsync:\n  /a: {remote_path: /b}\n", 1,
		    "use 1 to 1000");
		REFUSED("max_runs: [1, 2]\nsync:\n  /a: {remote_path: /b}\n", 1, "expected a single value");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    max_runs: 2\n", 4,
		    "max_runs belongs at the top level, not in a sync");
		REFUSED("defaults:\n  max_runs: 2\nsync:\n  /a: {remote_path: /b}\n", 2,
		    "max_runs belongs at the top level, not in defaults");
		REFUSED("max_runs: 2\nmax_runs: 3\nsync:\n  /a: {remote_path: /b}\n", 2,
		    "duplicate key 'max_runs' (first set on line 1)");
		REFUSED("max_run: 2\nsync:\n  /a: {remote_path: /b}\n", 1, "did you mean 'max_runs'?");
	}
	TEST("config: a leading --- , a BOM and CRLF line ends") {
		c = parse("\xef\xbb\xbf---\r\nsync:\r\n  /a:\r\n    remote_path: /b\r\n", 0);
		CHECK(c && strcmp(c->syncs[0].remote_path, "/b") == 0);
		config_free(c);
	}
	TEST("config refused: unknown key, with the nearest known one") {
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    remote_hots: x\n", 4,
		    "unknown key 'remote_hots' (did you mean 'remote_host'?)");
		REFUSED("defaults:\n  intervall: 3\nsync:\n  /a: {remote_path: /b}\n", 2,
		    "did you mean 'interval'?");
		REFUSED("syncs:\n  /a: {remote_path: /b}\n", 1, "did you mean 'sync'?");
		REFUSED("log:\n  destination: stdout\n  lvl: info\nsync:\n  /a: {remote_path: /b}\n", 3,
		    "use destination and level");
	}
	TEST("config refused: values of the wrong type or out of range") {
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    port: 70000\n", 4, "1 to 65535");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    port: 0\n", 4, "port");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    port: ssh\n", 4, "port");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    interval: -1\n", 4, "seconds");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    interval: 1e3\n", 4, "seconds");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    interval: 99999999\n", 4, "seconds");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    recurse: maybe\n", 4, "use true or false");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    transport: ftp\n", 4, "auto, ssh, local or rsyncd");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    strict_host_key: sometimes\n", 4, "accept-new");
		REFUSED("log_level: loud\nsync:\n  /a: {remote_path: /b}\n", 1, "error, warning, info or debug");
		REFUSED("sync:\n  /a:\n    remote_path: [/b, /c]\n", 3, "expected a single value");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    exclude: {a: b}\n", 4, "single value");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    rsync_opts: azQ\n", 4, "'Q'");
	}
	TEST("config refused: exclude values that rsync reads as rules") {
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    exclude: ['*.o', '- core']\n", 4,
		    "exclude: '- core': rsync reads \"- \" as a rule, not a name: "
		    "write 'core' (or '[-] core' for a name that starts so)");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    exclude:\n      - '+ *.c'\n", 5,
		    "exclude: '+ *.c': rsync reads \"+ \" as an include rule, and poni has "
		    "none: leave it out (or write '[+] *.c' for a name that starts so)");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    exclude: '!'\n", 4,
		    "exclude: a lone '!' clears rsync's exclude list: leave it out "
		    "(or write '[\\!]' for a file named !)");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    exclude: '- '\n", 4,
		    "exclude: '- ' is an rsync rule without a pattern: leave it out");
		REFUSED("defaults:\n  exclude: '+ a'\nsync:\n  /a: {remote_path: /b}\n", 2, "'+ a'");
	}
	TEST("config: exclude values that only look like rsync rules") {
		c = parse("sync:\n  /a:\n    remote_path: /b\n"
		    "    exclude: ['!a', '-a', '+a', '-, a', '+/ a', ' - a', '[-] a']\n", 0);
		CHECK(c && c->syncs[0].nexclude == 7);
		config_free(c);
	}
	TEST("config refused: hostile host, user and path values") {
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    remote_host: -oProxyCommand=x\n", 4, "starts with '-'");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    remote_user: \"a b\"\n", 4, "contains a space");
		REFUSED("sync:\n  /a:\n    remote_path: \"/b\\nc\"\n", 3, "control character");
		REFUSED("sync:\n  /a:\n    remote_path: -b\n", 3, "starts with '-'");
	}
	TEST("config refused: keys in the wrong place, dbclient with known_hosts") {
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    log: stderr\n", 4,
		    "log belongs at the top level, not in a sync");
		REFUSED("remote_path: /b\nsync:\n  /a: {}\n", 1,
		    "remote_path belongs in a sync or in defaults");
		REFUSED("sync:\n  /a:\n    remote_host: h\n    remote_path: /b\n    priv_key: /k\n"
		    "    ssh: dbclient\n    known_hosts: /kh\n", 7, "known_hosts does not work with dbclient");
	}
	TEST("config refused: missing required keys name the sync's line") {
		REFUSED("sync:\n  /a:\n    interval: 1\n", 2, "remote_path is missing");
		REFUSED("sync:\n  /a:\n    remote_host: web9\n    remote_path: /b\n", 2, "priv_key is missing");
		REFUSED("log: stdout\n", 0 /* no line */, "no syncs");
		REFUSED("log: stdout\nsync: []\n", 2, "sync is empty");
		REFUSED("sync:\n", 1, "sync is empty");
	}
	TEST("config: rsync_args, and long options in rsync_opts, as rsync gets them") {
		struct config *c = parse("defaults:\n  remote_path: /b\n  rsync_opts: azP --bwlimit 100\n"
		    "sync:\n  /a:\n    rsync_args: [--numeric-ids, \"--chmod=D755,F644\"]\n"
		    "  /c:\n    rsync_opts: -az\n  /d:\n    rsync_args:\n      - --inplace\n", 0);
		char *line;
		CHECK(c != NULL);
		if (c) {
			CHECK_STR(c->syncs[0].rsync_opts, "azP");
			CHECK(c->syncs[0].nrsync_args == 3);
			CHECK_STR(c->syncs[0].rsync_args[0], "--bwlimit=100");
			CHECK_STR(c->syncs[0].rsync_args[1], "--numeric-ids");
			CHECK_STR(c->syncs[0].rsync_args[2], "--chmod=D755,F644");
			CHECK_STR(c->syncs[1].rsync_opts, "az");
			CHECK(c->syncs[1].nrsync_args == 0);
			CHECK(c->syncs[2].nrsync_args == 2);
			line = sync_summary(&c->syncs[0]);
			CHECK_CONTAINS(line, "rsync -az --bwlimit=100 --numeric-ids --chmod=D755,F644, interval 3s");
			free(line);
			CHECK(!sync_conf_equal(&c->syncs[0], &c->syncs[2]));
		}
		config_free(c);
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    rsync_args: [--numeric-ids, --bwlimt=3]\n", 4,
		    "rsync_args: '--bwlimt=3' is not an rsync option (did you mean --bwlimit?)");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    rsync_args:\n      - --delete\n", 5,
		    "rsync_args: --delete: use delete: true");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n    rsync_opts: azP --bwlimit\n", 4,
		    "rsync_opts: --bwlimit takes a value");
	}
	TEST("config: a source_path in defaults is the source of syncs that give none") {
		struct config *c = parse("defaults:\n  source_path: /x\n  remote_path: /b\n"
		    "sync:\n  /a: []\n  named: {source_path: /y}\n", 0);
		CHECK(c != NULL);
		if (c) {
			CHECK(c->nsyncs == 2);
			CHECK(strcmp(c->syncs[0].source, "/x") == 0);
			CHECK(strcmp(c->syncs[1].source, "/y") == 0);
			CHECK(!c->syncs[0].simulate);
		}
		config_free(c);
		c = parse("log_path: /l\ndefaults: {remote_path: /b, simulate: yes}\nsync:\n  /a: []\n", 0);
		CHECK(c != NULL && strcmp(c->log, "/l") == 0 && c->syncs[0].simulate);
		config_free(c);
		REFUSED("log: /l\nlog_path: /m\nsync:\n  /a: {remote_path: /b}\n", 2,
		    "first set on line 1 as log or log_path");
	}
	TEST("config refused: structure errors") {
		REFUSED("sync:\n  relative/dir: {remote_path: /b}\n", 2, "absolute path");
		REFUSED("sync:\n  x: {source_path: rel, remote_path: /b}\n", 2, "not an absolute path");
		REFUSED("sync:\n  /a:\n    remote_host: web9\n    transport: local\n    remote_path: /b\n", 4,
		    "transport local, but remote_host");
		REFUSED("sync: /a\n", 1, "sync must be a mapping");
		REFUSED("sync:\n  /a: /b\n", 2, "a sync must be a mapping");
	}
	TEST("config refused: parser errors carry file, line and column") {
		REFUSED("sync:\n  /a:\n\tremote_path: /b\n", 3, "tab");
		REFUSED("sync:\n  /a:\n    port: 1\n    port: 2\n", 4, "line 3");
		REFUSED("sync:\n  /a: &x\n    remote_path: /b\n", 2, "anchors");
		REFUSED("sync:\n  /a:\n    remote_path: |\n      /b\n", 3, "block scalars");
		REFUSED("sync:\n  /a:\n    remote_path: '/b\n", 3, "unterminated");
		REFUSED("sync:\n  /a:\n    remote_path: /b\n---\nsync: {}\n", 4, "one document");
	}
	TEST("config: priv_key must exist and be a readable regular file") {
		char text[512];
		c = parse("sync:\n  /a:\n    remote_host: h\n    remote_path: /b\n    priv_key: /nonexistent/key\n",
		    CONFIG_CHECK_FILES);
		CHECK(c == NULL);
		CHECK_CONTAINS(error, "t.yml:5:");
		CHECK_CONTAINS(error, "cannot read /nonexistent/key");
		c = parse("sync:\n  /a:\n    remote_host: h\n    remote_path: /b\n    priv_key: /\n",
		    CONFIG_CHECK_FILES);
		CHECK(c == NULL);
		CHECK_CONTAINS(error, "not a regular file");
		{
			char key[] = "/tmp/poni-unit-key.XXXXXX";
			int fd = mkstemp(key);	/* mode 0600 */
			CHECK(fd >= 0);
			if (fd >= 0) {
				close(fd);
				snprintf(text, sizeof text, "sync:\n  /a:\n    remote_host: h\n"
				    "    remote_path: /b\n    priv_key: %s\n", key);
				c = parse(text, CONFIG_CHECK_FILES);
				CHECK(c != NULL);
				config_free(c);
				unlink(key);
			}
		}
	}
	TEST("config: a priv_key that group or others can read is refused, with the chmod") {
		char key[] = "/tmp/poni-unit-key.XXXXXX", text[512], want[300];
		int fd = mkstemp(key);
		CHECK(fd >= 0);
		if (fd >= 0) {
			close(fd);
			/* OpenSSH would refuse it at every run: UNPROTECTED PRIVATE KEY FILE */
			chmod(key, 0644);
			snprintf(text, sizeof text, "defaults:\n  priv_key: %s\nsync:\n"
			    "  /a:\n    remote_host: h\n    remote_path: /b\n", key);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c == NULL);
			snprintf(want, sizeof want, "t.yml:2: priv_key: %s is readable by others "
			    "(mode 0644), which OpenSSH refuses: chmod 600 %s", key, key);
			CHECK_STR(error, want);
			config_free(c);
			chmod(key, 0640);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c == NULL);
			CHECK_CONTAINS(error, "is readable by its group (mode 0640)");
			config_free(c);
			chmod(key, 0604);
			snprintf(text, sizeof text, "sync:\n  /a:\n    remote_host: h\n"
			    "    remote_path: /b\n    priv_key: %s\n", key);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c == NULL);
			CHECK_CONTAINS(error, "t.yml:5: priv_key: ");
			CHECK_CONTAINS(error, "chmod 600");
			config_free(c);
			/* without the file checks (poni's own tests), and for
			 * dbclient, which does not mind */
			c = parse(text, 0);
			CHECK(c != NULL);
			config_free(c);
			snprintf(text, sizeof text, "sync:\n  /a:\n    remote_host: h\n"
			    "    remote_path: /b\n    priv_key: %s\n    ssh: dbclient\n", key);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c != NULL);
			config_free(c);
			chmod(key, 0400);
			snprintf(text, sizeof text, "sync:\n  /a:\n    remote_host: h\n"
			    "    remote_path: /b\n    priv_key: %s\n", key);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c != NULL);
			config_free(c);
			unlink(key);
		}
	}
	TEST("config: relative files are relative to the config file's directory") {
		struct config_builder *b = config_builder_new("/etc/poni/config.yml");
		const char *text = "log: poni.log\nsync:\n  /a:\n    remote_host: h\n"
		    "    remote_path: backup\n    priv_key: keys/id\n    known_hosts: kh\n";
		c = config_yaml_feed(b, text, strlen(text)) == 0 ? config_finish(b, 0) : NULL;
		CHECK(c != NULL);
		if (c) {
			CHECK_STR(c->log, "/etc/poni/poni.log");
			CHECK_STR(c->syncs[0].priv_key, "/etc/poni/keys/id");
			CHECK_STR(c->syncs[0].known_hosts, "/etc/poni/kh");
			CHECK_STR(c->syncs[0].remote_path, "backup");	/* the remote's */
		}
		config_free(c);
		config_builder_free(b);
		REFUSED("sync:\n  /a:\n    remote_path: backup\n", 3, "not an absolute path");
	}
	TEST("config: poni's own known_hosts beside the config, unless one is named") {
		c = parse("sync:\n  /a: {remote_host: h, remote_path: /p, priv_key: /k}\n"
		    "  /b: {remote_host: h, remote_path: /p, priv_key: /k, strict_host_key: no}\n"
		    "  /c: {remote_host: h, remote_path: /p, priv_key: /k, known_hosts: /kh}\n", 0);
		CHECK(c != NULL);
		if (c) {
			CHECK_STR(c->syncs[0].known_hosts, "./known_hosts");
			CHECK(c->syncs[1].known_hosts == NULL);
			CHECK_STR(c->syncs[2].known_hosts, "/kh");
		}
		config_free(c);
	}
	TEST("config: an IPv6 target is shown in brackets") {
		c = parse("sync:\n  /a:\n    remote_host: 'fe80::1'\n    remote_path: /p\n    priv_key: /k\n", 0);
		if (c) {
			char *t = sync_target(&c->syncs[0]);
			CHECK_STR(t, "[fe80::1]:/p");
			free(t);
		}
		CHECK(c != NULL);
		config_free(c);
	}
	TEST("config: dbclient is refused an OpenSSH-format key, with the conversion") {
		char key[] = "/tmp/poni-unit-key.XXXXXX", text[512];
		int fd = mkstemp(key);
		CHECK(fd >= 0);
		if (fd >= 0) {
			const char head[] = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n";
			CHECK(write(fd, head, sizeof head - 1) == (ssize_t)(sizeof head - 1));
			close(fd);
			snprintf(text, sizeof text, "sync:\n  /a:\n    remote_host: h\n"
			    "    remote_path: /b\n    priv_key: %s\n    ssh: dbclient\n", key);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c == NULL);
			CHECK_CONTAINS(error, "t.yml:5:");
			CHECK_CONTAINS(error, "dropbearconvert openssh dropbear");
			config_free(c);
			/* OpenSSH's own ssh takes it */
			snprintf(text, sizeof text, "sync:\n  /a:\n    remote_host: h\n"
			    "    remote_path: /b\n    priv_key: %s\n", key);
			c = parse(text, CONFIG_CHECK_FILES);
			CHECK(c != NULL);
			config_free(c);
			unlink(key);
		}
	}
	TEST("config: a refused section is not entered, so going on cannot write past it") {
		struct config_builder *b = config_builder_new("t.yml");
		CHECK(config_begin(b, SEC_SYNC, "", 1) < 0);
		CHECK_CONTAINS(config_error(b), "t.yml:1: a sync needs");
		config_set(b, "remote_path", "/x", 2);	/* syncs[-1] before */
		CHECK(config_begin(b, SEC_SYNC, "/a", 3) == 0);
		CHECK(config_begin(b, SEC_SYNC, "/a", 4) < 0);
		CHECK(config_set(b, "remote_path", "/b", 5) == 0);
		config_builder_free(b);
	}
	TEST("config: sync_summary names source, target and options") {
		c = parse(spec_example, 0);
		if (c) {
			char *line = sync_summary(&c->syncs[0]);
			CHECK_STR(line, "/opt/dir1 -> jsmith@nycweb1:/opt (ssh port 1122, key "
			    "/home/jsmith/.ssh/id_rsa, host key accept-new, known_hosts ./known_hosts, "
			    "rsync -az, interval 15s, recurse)");
			free(line);
		}
		CHECK(c != NULL);
		config_free(c);
	}
	UNIT_EXIT();
}
