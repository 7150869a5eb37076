/* A minimal unit test kit: each TEST prints "PASS name" or "FAIL name: why"
 * on stdout; tests/run.sh counts those lines. */
#ifndef PONI_UNIT_H
#define PONI_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_now;	/* the current test has failed */
static int unit_failures;	/* tests failed in this binary */
static const char *unit_name;

#define TEST(name) \
	for (unit_name = (name), unit_failed_now = 0, unit_once = 1; \
	     unit_once; unit_once = 0, unit_report())
static int unit_once;

static void unit_report(void)
{
	if (unit_failed_now)
		unit_failures++;
	else
		printf("PASS %s\n", unit_name);
	fflush(stdout);
}

#define CHECK(cond) do { if (!(cond)) { \
	if (!unit_failed_now) printf("FAIL %s: %s:%d: %s\n", unit_name, \
		__FILE__, __LINE__, #cond); \
	unit_failed_now = 1; } } while (0)

/* got must contain want (NULL got fails). */
#define CHECK_CONTAINS(got, want) do { const char *g_ = (got); \
	if (!g_ || !strstr(g_, (want))) { \
	if (!unit_failed_now) printf("FAIL %s: %s:%d: '%s' does not contain '%s'\n", \
		unit_name, __FILE__, __LINE__, g_ ? g_ : "(null)", (want)); \
	unit_failed_now = 1; } } while (0)

#define CHECK_STR(got, want) do { const char *g_ = (got); \
	if (!g_ || strcmp(g_, (want)) != 0) { \
	if (!unit_failed_now) printf("FAIL %s: %s:%d: got '%s', want '%s'\n", \
		unit_name, __FILE__, __LINE__, g_ ? g_ : "(null)", (want)); \
	unit_failed_now = 1; } } while (0)

#define UNIT_EXIT() return unit_failures ? 1 : 0

#endif
