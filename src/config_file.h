/* Loading a config file: read it (refusing one that others could
 * write), pick its front end (YAML or INI) and run the builder. The
 * builder knows no front end; this is where they meet. */
#ifndef PONI_CONFIG_FILE_H
#define PONI_CONFIG_FILE_H

#include <stddef.h>

#include "config.h"

/* Read and validate a config file (flags: CONFIG_CHECK_FILES). NULL
 * with err filled on error. */
struct config *config_load(const char *path, int flags, char *err,
			   size_t errlen);

#endif
