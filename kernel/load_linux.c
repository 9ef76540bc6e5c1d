/* Linux guests: the x86 boot protocol (Documentation/arch/x86/boot.rst). */
#include "kernel/guest_load.h"

static bool linux_detect(const void *image, size_t size)
{
	(void)image;
	(void)size;
	return false;
}

const struct guest_loader guest_loader_linux = {"linux", linux_detect, NULL};
