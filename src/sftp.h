/* The few bytes of SFTP (version 3, draft-ietf-secsh-filexfer-02) that
 * poni speaks to rename files on an ssh target, through the sftp
 * subsystem of its sshd: no remote shell, so any name goes as it is.
 * The ssh argv, the requests, and the server's answers read as they
 * come. Pure functions, tested by tests/unit_sftp.c; sshrename.c runs
 * them. */
#ifndef PONI_SFTP_H
#define PONI_SFTP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

/* The longest answer packet taken: OpenSSH's VERSION with its
 * extensions is some 350 bytes, a STATUS some 40. */
#define SFTP_MAX_PACKET 4096

/* ssh's argv asking s's host for its sftp subsystem, through the
 * master at control when not NULL; dbclient gets none (it has no master
 * and its -s works the same). Free with argv_free. */
char **sftp_argv(const struct sync_conf *s, const char *control);

/* Append to b the requests: SSH_FXP_INIT (version 3), then for each i
 * an SSH_FXP_RENAME with id i of dir/from[i] to dir/to[i] (dir as is
 * when from[i] or to[i] is empty). Plain RENAME: OpenSSH's sftp-server
 * never replaces an existing target with it. The names go as bytes,
 * whatever they hold. */
void sftp_requests(struct buf *b, const char *dir, char *const from[], char *const to[],
    size_t n);

/* The answers to n renames, fed as they arrive: SSH_FXP_VERSION, then
 * one SSH_FXP_STATUS per id, in any order. */
struct sftp_answers {
	bool *ok;		/* the caller's n flags: rename i succeeded */
	size_t n;
	size_t answered;	/* ids answered so far */
	bool version;		/* the VERSION packet seen */
	int state;		/* 0: more expected, 1: all answered, -1: bad */
	unsigned char pkt[SFTP_MAX_PACKET + 4];	/* a packet being read */
	size_t have;
};
/* Start reading the answers to n renames into ok[] (all false now). */
void sftp_answers_init(struct sftp_answers *a, bool *ok, size_t n);
/* Take the next len bytes the server sent. Returns 1 once every rename
 * has been answered, 0 while answers are missing, -1 when the stream is
 * not a valid answer (a wrong packet, an unknown or repeated id, bytes
 * after the last answer): every ok[] is false then, and stays so. */
int sftp_answers_feed(struct sftp_answers *a, const void *data, size_t len);
/* The stream ended: 1 when everything was answered; else -1, every
 * ok[] false (a truncated answer is not trusted). */
int sftp_answers_end(struct sftp_answers *a);

#endif
