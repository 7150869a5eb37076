/* libFuzzer target: the YAML-subset parser and the config builder and
 * validator behind it, on any bytes. Built and run by tests/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>

#include "../src/config.h"
#include "../src/config_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_builder *b = config_builder_new("fuzz.yml");

	/* no file checks: they would only test the file system */
	if (config_yaml_feed(b, (const char *)data, size) == 0)
		config_free(config_finish(b, 0));
	config_builder_free(b);
	return 0;
}
