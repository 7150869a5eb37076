/* The options a config may give rsync: rsync_opts' letters and the long
 * options of rsync_args, checked against rsync's own option tables (rsync
 * 3.4's options.c, read for the names: a name rsync does not know would
 * fail every run) and against what poni gives rsync itself. */
#include <stdbool.h>
#include <string.h>

#include "format.h"
#include "rsync.h"
#include "util.h"

/* rsync's short options that take no argument (rsync 3.x --help). */
static const char flag_letters[] = "vqcarRbudlLkKHpEAXogDtUNOJSnWxmIyzCFsh8iP046";

/* Short options that read an argument, and their long names. */
static const struct {
	char letter;
	const char *long_name;
} arg_letters[] = {
	{ 'B', "--block-size=SIZE" },
	{ 'e', "--rsh=COMMAND" },
	{ 'f', "--filter=RULE" },
	{ 'T', "--temp-dir=DIR" },
	{ 'M', "--remote-option=OPT" },
	{ '@', "--modify-window=NUM" },
};

size_t rsync_opts_letters(const char *opts)
{
	return strncmp(opts, "--", 2) == 0 ? 0 : strcspn(opts, " ");
}

const char *rsync_opts_check(const char *opts, char *msg, size_t msglen)
{
	const char *p, *end = opts + rsync_opts_letters(opts);
	size_t i, len;
	char arg[256];


	for (p = opts; p < end; p++) {
		if (*p != '-' && strchr(flag_letters, *p))
			continue;
		for (i = 0; i < sizeof arg_letters / sizeof *arg_letters; i++)
			if (arg_letters[i].letter == *p)
				break;
		if (i < sizeof arg_letters / sizeof *arg_letters) {
			if (p + 1 < end)
				format(msg, msglen,
				    "'%c' (%s) takes an argument, so rsync would read '%.*s' as its %s: remove '%c'",
				    *p, arg_letters[i].long_name, (int)(end - p - 1), p + 1,
				    strchr(arg_letters[i].long_name, '=') + 1, *p);
			else
				format(msg, msglen,
				    "'%c' (%s) takes an argument, which rsync_opts cannot give: remove '%c'",
				    *p, arg_letters[i].long_name, *p);
		} else if (*p == 'V') {
			format(msg, msglen, "'V' (--version) makes rsync print its version and exit: remove it");
		} else if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f) {
			format(msg, msglen, "'%c' is not an rsync short option without an argument: remove it", *p);
		} else {
			format(msg, msglen, "only rsync's option letters may be given, like azP");
		}
		return msg;
	}
	while ((len = rsync_opts_next(&p, arg, sizeof arg)))
		if (len >= sizeof arg) {
			format(msg, msglen, "an option of %zu bytes is too long", len);
			return msg;
		} else if (rsync_arg_check(arg, msg, msglen)) {
			return msg;
		}
	return NULL;
}

/* rsync's long options (rsync 3.4's options.c), " name" each: "=" after
 * a name that takes a value, "+" where rsync knows --no-NAME too. The
 * ones poni refuses (below) are left out, but for those whose --no-NAME
 * is fine. */
static const char long_options[] =
	" 8-bit-output+ acls+ address= append+ append-verify archive atimes+ backup+ backup-dir="
	" block-size= blocking-io+ bwlimit=+ cc= checksum+ checksum-choice= checksum-seed= chmod="
	" chown= compare-dest= compress+ compress-choice= compress-level= compress-threads="
	" confine-root= contimeout=+ copy-as= copy-dest= copy-devices copy-dirlinks copy-links"
	" copy-unsafe-links crtimes+ delay-updates+ devices+ drop-D+ executability existing"
	" fake-super force+ fsync fuzzy+ group+ groupmap= hard-links+ human-readable+ i-d+"
	" iconv=+ ignore-errors+ ignore-existing ignore-non-existing implied-dirs+ inplace+"
	" insecure-links+ ipv4 ipv6 itemize-changes+ keep-dirlinks link-dest= links+"
	" log-file-format= log-file= log-format= max-alloc= max-size= min-size= mkpath+ motd+"
	" munge-links+ new-compress numeric-ids+ old-args+ old-compress omit-dir-times+"
	" omit-link-times+ one-file-system+ open-noatime+ out-format= outbuf= owner+ partial+"
	" partial-dir= perms+ preallocate progress+ protect-args+ protocol= prune-empty-dirs+"
	" qsort quiet rsync-path= safe-links secluded-args+ size-only skip-compress= sockopts="
	" sparse+ specials+ stats stop-after= stop-at= suffix= super+ temp-dir= time-limit="
	" timeout=+ times+ trust-sender update usermap= verbose+ whole-file+ write-devices+"
	" xattrs+ zc= zl= zt= ";
/* rsync's --no-X of a short option letter X. */
static const char no_letters[] = "8AcDdgHhiJlmNOopRrSstUvWXxyz";


/* Options poni gives rsync itself, or that would break what it does,
 * and what to do instead. Names, space-separated, then the reason. */
static const struct {
	const char *names;
	const char *why;
} refused[] = {
	{ " files-from from0 no-from0 rsh server sender daemon config dparam detach no-detach"
	  " read-batch write-batch only-write-batch remote-option early-input ",
	  "poni runs rsync itself and gives what it needs; remove it" },
	{ " delete del delete-before delete-during delete-delay delete-after delete-excluded"
	  " delete-missing-args ignore-missing-args max-delete ",
	  "use delete: true (poni gives --delete, and its guard against an empty source)" },
	{ " exclude exclude-from include include-from filter cvs-exclude ",
	  "use exclude: poni must know what is excluded, to decide which changes need a run" },
	{ " dry-run list-only ", "use simulate: true, which logs each run and runs none" },
	{ " remove-source-files remove-sent-files ", "it would delete the source's files" },
	{ " version help ", "it makes rsync print and exit" },
	{ " progress info debug stderr msgs2stderr no-msgs2stderr ",
	  "poni logs rsync's errors; progress and debug output would be lost or flood the log" },
	{ " partial ", "it leaves a partial file in place of a good copy; use --partial-dir=DIR" },
	{ " relative no-relative no-R recursive no-recursive no-r dirs no-dirs no-d old-dirs old-d"
	  " ignore-times i-r no-i-r inc-recursive no-inc-recursive ",
	  "poni gives it as each run needs (r in rsync_opts: recurse)" },
	{ " modify-window ", "use modify_window" },
	{ " old-args no-protect-args no-secluded-args ",
	  "poni gives file names through rsync's protocol (--protect-args), never a shell" },
	{ " port password-file ", "poni reaches the target over ssh: use port and priv_key" },
};

/* The entry of name (len bytes) in list, whose entries each follow a
 * space and end in a space, "=" or "+"; NULL when it is not there. */
static const char *find(const char *list, const char *name, size_t len)
{
	const char *p;

	for (p = list; (p = strchr(p, ' ')); p++)
		if (strncmp(p + 1, name, len) == 0 && p[1 + len] && strchr(" =+", p[1 + len]))
			return p + 1;
	return NULL;
}

/* Whether rsync knows --name (len bytes), and if so whether it takes a
 * value. */
static bool known(const char *name, size_t len, bool *value)
{
	const char *p;

	*value = false;
	if (len > 3 && strncmp(name, "no-", 3) == 0) {	/* --no-NAME takes none */
		if (len == 4 && strchr(no_letters, name[3]))
			return true;
		if (!(p = find(long_options, name + 3, len - 3)))
			return false;
		p += len - 3;
		return p[*p == '='] == '+';
	}
	if (!(p = find(long_options, name, len)))
		return false;
	*value = p[len] == '=';
	return true;
}

void rsync_options_each(void (*fn)(const char *name, bool value))
{
	const char *p, *end;
	char name[48];

	for (p = long_options + 1; *p; p = end + 1) {
		end = strchr(p, ' ');
		format(name, sizeof name, "no-%.*s", (int)strcspn(p, " =+"), p);
		fn(name + 3, p[strcspn(p, " =+")] == '=');
		if (memchr(p, '+', (size_t)(end - p)))
			fn(name, false);
	}
	for (p = no_letters; *p; p++) {
		format(name, sizeof name, "no-%c", *p);
		fn(name, false);
	}
}

/* The original Poni passed rsync_opts through a shell, so its users
 * write "azP --bwlimit=100" or "azP --bwlimit 100": long options after
 * the letters, a value maybe as the next word. */
size_t rsync_opts_next(const char **pp, char *arg, size_t size)
{
	const char *p = *pp, *next;
	size_t len, vlen = 0;

	while (*p == ' ')
		p++;
	len = strcspn(p, " ");
	next = p + len;
	while (*next == ' ')
		next++;
	/* "--name value": the value as the shell would have passed it */
	if (len > 2 && p[0] == '-' && p[1] == '-' && !memchr(p, '=', len) && *next &&
	    *next != '-' && len - 2 < 40) {
		char name[40];
		format(name, sizeof name, "%.*s", (int)(len - 2), p + 2);
		bool value;
		if (known(name, len - 2, &value) && value)
			vlen = strcspn(next, " ");
	}
	*pp = vlen ? next + vlen : p + len;
	if (len + 1 + vlen >= size)
		;		/* too long: the caller sees the length */
	else if (vlen)
		format(arg, size, "%.*s=%.*s", (int)len, p, (int)vlen, next);
	else
		format(arg, size, "%.*s", (int)len, p);
	return len ? len + (vlen ? 1 + vlen : 0) : 0;
}

const char *rsync_arg_check(const char *arg, char *msg, size_t msglen)
{
	const char *eq = strchr(arg, '='), *p, *best = long_options + 1;
	size_t len = strcspn(arg, "="), d, bestd = (size_t)-1, i;
	char name[40], cand[40];
	bool value;

	if (arg[0] != '-' || arg[1] != '-' || !arg[2]) {
		format(msg, msglen, "'%s' is not a long option: give rsync's long options (--name or "
		    "--name=value); short flags go in rsync_opts", arg);
		return msg;
	}
	if (memchr(arg, ' ', len) || memchr(arg, '\t', len)) {
		format(msg, msglen, "'%s': write an option and its value as --name=value, one option "
		    "to an item", arg);
		return msg;
	}
	len -= 2;
	format(name, sizeof name, "%.*s", (int)len, arg + 2);
	for (i = 0; len < sizeof name && i < sizeof refused / sizeof *refused; i++)
		if (find(refused[i].names, name, len)) {
			format(msg, msglen, "--%s: %s", name, refused[i].why);
			return msg;
		}
	if (len >= sizeof name || !known(name, len, &value)) {
		/* the nearest name rsync knows (refused ones too: their
		 * message says what to use) */
		for (i = 0; i <= sizeof refused / sizeof *refused; i++)
			for (p = i ? refused[i - 1].names + 1 : long_options + 1; *p;
			     p = strchr(p, ' ') + 1) {
				format(cand, sizeof cand, "%.*s", (int)strcspn(p, " =+"), p);
				if ((d = edit_distance(name, cand)) < bestd) {
					bestd = d;
					best = p;
				}
			}
		format(msg, msglen, "'%s' is not an rsync option (did you mean --%.*s?)",
		    arg, (int)strcspn(best, " =+"), best);
		return msg;
	}
	if (value && !eq) {
		format(msg, msglen, "--%s takes a value: write it as --%s=VALUE", name, name);
		return msg;
	}
	if (!value && eq) {
		format(msg, msglen, "--%s takes no value: remove '%s'", name, eq);
		return msg;
	}
	if (strpbrk(arg, "\n\r")) {
		format(msg, msglen, "--%s: a value with a line break", name);
		return msg;
	}
	return NULL;
}
