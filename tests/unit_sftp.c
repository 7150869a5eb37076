/* The SFTP renames: the request bytes, the reading of answers (whole,
 * in pieces, cut short, garbled; to RENAME and to LSTAT), and the ssh
 * argv asking for sftp. */
#include <stdlib.h>

#include "../src/rsync.h"
#include "../src/sftp.h"
#include "../src/spawn.h"
#include "unit.h"

/* A packet as the server would send it. */
static void pkt(struct buf *b, int type, const char *body, size_t len)
{
	char h[5] = { 0, 0, (char)((len + 1) >> 8), (char)(len + 1), (char)type };

	buf_add(b, h, 5);
	buf_add(b, body, len);
}

static void version(struct buf *b)
{
	/* version 3 and one extension: name "x@y", data "1" */
	pkt(b, 2, "\0\0\0\3" "\0\0\0\3x@y" "\0\0\0\1" "1", 16);
}

static void status(struct buf *b, unsigned id, unsigned code)
{
	char s[25] = { 0, 0, 0, (char)id, 0, 0, 0, (char)code, 0, 0, 0, 7, 'S', 'u', 'c', 'c',
		'e', 's', 's', 0, 0, 0, 0 };

	pkt(b, 101, s, 23);
}

/* An ATTRS answer: flags, the fields they name. */
static void attrs(struct buf *b, unsigned id, const char *fields, size_t len)
{
	char p[64] = { 0, 0, 0, (char)id };

	memcpy(p + 4, fields, len);
	pkt(b, 105, p, 4 + len);
}

/* The renames from[i] -> to[i] in dir. */
static void renames(struct buf *b, const char *dir, char *const from[], char *const to[], size_t n)
{
	size_t i;

	sftp_init(b);
	for (i = 0; i < n; i++)
		sftp_rename(b, i, dir, from[i], to[i]);
}

static int feed_q(const struct buf *b, enum sftp_question q, bool version, bool *ok, size_t n,
    size_t piece, int *end)
{
	struct sftp_answers a;
	size_t i, len;
	int r = 0;

	sftp_answers_init(&a, q, version, ok, n);
	for (i = 0; i < b->len; i += len) {
		len = b->len - i < piece ? b->len - i : piece;
		r = sftp_answers_feed(&a, b->s + i, len);
	}
	if (!b->len)
		r = a.state;
	*end = sftp_answers_end(&a);
	return r;
}

static int feed(const struct buf *b, bool *ok, size_t n, size_t piece, int *end)
{
	return feed_q(b, SFTP_RENAMED, true, ok, n, piece, end);
}

static char *joined(char **argv)
{
	char *s = argv_format(argv);

	argv_free(argv);
	return s;
}

int main(void)
{
	char *from[] = { "a", "dir/-n b", "x" }, *to[] = { "b", "dir/'c\"\n\xff", "y/z" };
	struct buf b = { 0 }, r = { 0 };
	bool ok[3];
	int end;
	size_t piece;
	struct sync_conf c;
	char *s;

	TEST("sftp requests: INIT 3, then RENAME with id, dir/from, dir/to") {
		renames(&b, "/t", from, to, 1);
		CHECK(b.len == 9 + 4 + 1 + 4 + 4 + 4 + 4 + 4);
		CHECK(memcmp(b.s, "\0\0\0\5\1\0\0\0\3"
		    "\0\0\0\25\22\0\0\0\0" "\0\0\0\4/t/a" "\0\0\0\4/t/b", b.len) == 0);
		buf_free(&b);
	}
	TEST("sftp requests: names with any byte but NUL go as they are") {
		renames(&b, "rel/dir/", from, to, 3);
		CHECK(b.len == 9 + 35 + 50 + 37);
		/* the second: id 1, "rel/dir/dir/-n b", "rel/dir/dir/'c\"\n\xff" */
		CHECK(memcmp(b.s + 9 + 35, "\0\0\0\56\22\0\0\0\1" "\0\0\0\20rel/dir/dir/-n b"
		    "\0\0\0\21rel/dir/dir/'c\"\n\xff", 50) == 0);
		/* the third: id 2, into a subdirectory */
		CHECK(memcmp(b.s + b.len - 37, "\0\0\0\41\22\0\0\0\2" "\0\0\0\11rel/dir/x"
		    "\0\0\0\13rel/dir/y/z", 37) == 0);
		buf_free(&b);
	}
	TEST("sftp requests: none is INIT alone") {
		renames(&b, "/t", from, to, 0);
		CHECK(b.len == 9 && memcmp(b.s, "\0\0\0\5\1\0\0\0\3", 9) == 0);
		buf_free(&b);
	}
	TEST("sftp requests: LSTAT with id and dir/name") {
		sftp_lstat(&b, 7, "/t/", "a/'b");
		CHECK(b.len == 4 + 1 + 4 + 4 + 7);
		CHECK(memcmp(b.s, "\0\0\0\20\7\0\0\0\7" "\0\0\0\7/t/a/'b", b.len) == 0);
		buf_free(&b);
	}
	TEST("sftp answers to LSTAT: a directory, a file, a link, missing, no permissions") {
		/* size, uid/gid, permissions, times */
		attrs(&r, 0, "\0\0\0\17" "\0\0\0\0\0\0\20\0" "\0\0\0\0\0\0\0\0"
		    "\0\0\101\355" "\0\0\0\0\0\0\0\0", 32);		/* 040755 */
		attrs(&r, 1, "\0\0\0\4" "\0\0\201\244", 8);	/* 0100644 */
		attrs(&r, 2, "\0\0\0\4" "\0\0\241\377", 8);	/* 0120777 */
		status(&r, 3, 2);					/* no such file */
		attrs(&r, 4, "\0\0\0\1" "\0\0\0\0\0\0\20\0", 12);	/* size alone */
		attrs(&r, 5, "\0\0\0\4" "\0\0\101", 7);		/* cut short */
		memset(ok, 1, sizeof ok);
		{
			bool ok6[6];
			CHECK(feed_q(&r, SFTP_IS_DIR, false, ok6, 6, 1, &end) == 1 && end == 1);
			CHECK(ok6[0] && !ok6[1] && !ok6[2] && !ok6[3] && !ok6[4] && !ok6[5]);
			/* after INIT: VERSION first */
			CHECK(feed_q(&r, SFTP_IS_DIR, true, ok6, 6, 1000, &end) == -1);
			CHECK(!ok6[0]);
		}
		buf_free(&r);
		/* ATTRS is no answer to a RENAME */
		attrs(&r, 0, "\0\0\0\4" "\0\0\101\355", 8);
		CHECK(feed_q(&r, SFTP_RENAMED, false, ok, 1, 1000, &end) == -1 && !ok[0]);
		buf_free(&r);
		/* nothing asked, nothing awaited */
		CHECK(feed_q(&r, SFTP_RENAMED, false, ok, 0, 1000, &end) == 1 && end == 1);
	}
	TEST("sftp answers: whole, and one byte at a time") {
		version(&r);
		status(&r, 0, 0);
		status(&r, 1, 11);	/* SSH_FX_FILE_ALREADY_EXISTS... or any failure */
		status(&r, 2, 0);
		for (piece = 1; piece <= r.len; piece = piece < 7 ? piece + 1 : piece * 3) {
			memset(ok, 0, sizeof ok);
			CHECK(feed(&r, ok, 3, piece, &end) == 1);
			CHECK(end == 1);
			CHECK(ok[0] && !ok[1] && ok[2]);
		}
	}
	TEST("sftp answers: cut short anywhere, none is trusted") {
		struct buf cut = { 0 };
		size_t len;

		for (len = 0; len < r.len; len++) {
			buf_free(&cut);
			buf_add(&cut, r.s, len);
			memset(ok, 1, sizeof ok);
			CHECK(feed(&cut, ok, 3, 5, &end) <= 0);
			CHECK(end == -1);
			CHECK(!ok[0] && !ok[1] && !ok[2]);
		}
		buf_free(&cut);
	}
	TEST("sftp answers: anything after the last answer spoils them") {
		buf_add(&r, "\0", 1);
		CHECK(feed(&r, ok, 3, 1000, &end) == -1 && end == -1);
		CHECK(!ok[0] && !ok[2]);
		buf_free(&r);
	}
	TEST("sftp answers: no VERSION first, a wrong version, a wrong type") {
		status(&r, 0, 0);
		CHECK(feed(&r, ok, 1, 1000, &end) == -1 && !ok[0]);
		buf_free(&r);
		pkt(&r, 2, "\0\0\0\6", 4);
		status(&r, 0, 0);
		CHECK(feed(&r, ok, 1, 1000, &end) == -1 && !ok[0]);
		buf_free(&r);
		version(&r);
		pkt(&r, 102, "\0\0\0\0\0\0\0\0", 8);	/* a HANDLE */
		CHECK(feed(&r, ok, 1, 1000, &end) == -1 && !ok[0]);
		buf_free(&r);
	}
	TEST("sftp answers: an id out of order, repeated or unknown") {
		version(&r);
		status(&r, 1, 0);
		status(&r, 0, 0);
		CHECK(feed(&r, ok, 2, 1000, &end) == -1 && !ok[0] && !ok[1]);
		buf_free(&r);
		version(&r);
		status(&r, 0, 0);
		status(&r, 0, 0);
		CHECK(feed(&r, ok, 2, 1000, &end) == -1 && !ok[0] && !ok[1]);
		buf_free(&r);
		version(&r);
		status(&r, 0, 0);
		status(&r, 7, 0);
		CHECK(feed(&r, ok, 2, 1000, &end) == -1 && !ok[0] && !ok[1]);
		buf_free(&r);
	}
	TEST("sftp answers: lengths out of bounds, short packets, garbage") {
		version(&r);
		buf_add(&r, "\xff\xff\xff\xff", 4);	/* 4 GiB packet */
		CHECK(feed(&r, ok, 1, 1000, &end) == -1);
		buf_free(&r);
		version(&r);
		buf_add(&r, "\0\0\0\0", 4);		/* empty packet */
		CHECK(feed(&r, ok, 1, 1000, &end) == -1);
		buf_free(&r);
		version(&r);
		pkt(&r, 101, "\0\0\0\0\0\0\0", 7);	/* STATUS without its code */
		CHECK(feed(&r, ok, 1, 1000, &end) == -1 && !ok[0]);
		buf_free(&r);
		buf_adds(&r, "bash: sftp: command not found\n");
		CHECK(feed(&r, ok, 1, 3, &end) == -1 && end == -1 && !ok[0]);
		buf_free(&r);
	}
	TEST("sftp answers: none asked, VERSION alone") {
		version(&r);
		CHECK(feed(&r, ok, 0, 1000, &end) == 1 && end == 1);
		buf_free(&r);
	}
	TEST("sftp argv: OpenSSH through the master, the host after --") {
		memset(&c, 0, sizeof c);
		c.ssh = "ssh";
		c.port = 2222;
		c.priv_key = "/k";
		c.remote_host = "h";
		c.remote_user = "u";
		c.strict_host_key = HOSTKEY_YES;
		s = joined(sftp_argv(&c, "/run/m"));
		CHECK_STR(s, "'ssh' '-S' '/run/m' '-o' 'ControlMaster=no' '-s' '-p' '2222' '-i' '/k' "
		    "'-l' 'u' '-o' 'BatchMode=yes' '-o' 'StrictHostKeyChecking=yes' '--' 'h' 'sftp'");
		free(s);
		s = joined(sftp_argv(&c, NULL));
		CHECK_STR(s, "'ssh' '-s' '-p' '2222' '-i' '/k' '-l' 'u' '-o' 'BatchMode=yes' "
		    "'-o' 'StrictHostKeyChecking=yes' '--' 'h' 'sftp'");
		free(s);
	}
	TEST("sftp argv: dbclient, no master, no --") {
		c.ssh = "/usr/bin/dbclient";
		c.strict_host_key = HOSTKEY_NO;
		s = joined(sftp_argv(&c, "/run/m"));
		CHECK_STR(s, "'/usr/bin/dbclient' '-s' '-p' '2222' '-i' '/k' '-l' 'u' '-yy' 'h' 'sftp'");
		free(s);
	}
	UNIT_EXIT();
}
