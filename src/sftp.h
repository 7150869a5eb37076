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

/* Requests, appended to b: SSH_FXP_INIT (version 3), which comes
 * first; SSH_FXP_LSTAT of dir/name; SSH_FXP_MKDIR of dir/name with the
 * permissions mode; SSH_FXP_RENAME of dir/from to dir/to (dir as is for
 * an empty name). Plain RENAME: OpenSSH's
 * sftp-server never replaces an existing target with it. The names go
 * as bytes, whatever they hold. */
void sftp_init(struct buf *b);
void sftp_lstat(struct buf *b, size_t id, const char *dir, const char *name);
void sftp_mkdir(struct buf *b, size_t id, const char *dir, const char *name, unsigned mode);
void sftp_rename(struct buf *b, size_t id, const char *dir, const char *from, const char *to);

/* What the answers tell: whether each rename or mkdir was done
 * (SSH_FXP_STATUS OK), or whether each path is a directory, not a link
 * (LSTAT's SSH_FXP_ATTRS with the type of a directory; a STATUS: no,
 * and missing[i] when it says there is no such file). */
enum sftp_question { SFTP_RENAMED, SFTP_IS_DIR };

/* The answers to requests with ids 0 to n-1, fed as they arrive: after
 * SSH_FXP_VERSION when the requests began with INIT, one answer per id,
 * in the order of the ids (OpenSSH's sftp-server answers one request
 * after the other; any other order counts as no answer, which costs a
 * transfer, never a wrong replica). */
struct sftp_answers {
	bool *ok;		/* the caller's n flags */
	bool *missing;		/* SFTP_IS_DIR: n more, or NULL */
	size_t n;
	enum sftp_question question;
	size_t answered;	/* ids answered so far */
	bool version;		/* the VERSION packet seen (or not awaited) */
	int state;		/* 0: more expected, 1: all answered, -1: bad */
	unsigned char pkt[SFTP_MAX_PACKET + 4];	/* a packet being read */
	size_t have;
};
/* Start reading the answers to n requests into ok[] (all false now;
 * set a->missing after, if wanted); version: a VERSION packet comes
 * first. */
void sftp_answers_init(struct sftp_answers *a, enum sftp_question question, bool version,
    bool *ok, size_t n);
/* Take the next len bytes the server sent. Returns 1 once every request
 * has been answered, 0 while answers are missing, -1 when the stream is
 * not a valid answer (a wrong packet, an unknown or repeated id, bytes
 * after the last answer): every ok[] is false then, and stays so. */
int sftp_answers_feed(struct sftp_answers *a, const void *data, size_t len);
/* The stream ended: 1 when everything was answered; else -1, every
 * ok[] false (a truncated answer is not trusted). */
int sftp_answers_end(struct sftp_answers *a);

#endif
