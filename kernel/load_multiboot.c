/* Multiboot (version 1) guests: the Multiboot Specification 0.6.96. */
#include "kernel/guest_load.h"

static bool multiboot_detect(const void *image, size_t size)
{
	(void)image;
	(void)size;
	return false;
}

const struct guest_loader guest_loader_multiboot = {"multiboot", multiboot_detect, NULL};
