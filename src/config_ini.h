/* The INI front end of the config builder (inih, built with INI=1). */
#ifndef PONI_CONFIG_INI_H
#define PONI_CONFIG_INI_H

#include <stddef.h>

#include "config.h"

/* Whether the file is INI rather than YAML (see poni.conf(5)). */
int config_is_ini(const char *path, const char *buf, size_t len);
/* Feed buf to b as INI. 0, or -1 with the error recorded in b; without
 * INI support built in, the error says how to get it. */
int config_ini_feed(struct config_builder *b, const char *buf, size_t len);

#endif
