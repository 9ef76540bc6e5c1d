/* The machine's AHCI controller as corevisor drives it (issue 11, point 2):
 * found among the host PCI functions, its ABAR mapped uncached, the HBA
 * reset, and the ports the manifest's ahci-backed virtio-blk devices name
 * started, each a disk shared by those devices under the port's lock. */
#ifndef KERNEL_HOST_AHCI_H
#define KERNEL_HOST_AHCI_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/ahci.h"
#include "kernel/spinlock.h"

struct manifest;

/* One started port. The slots' owners let several devices share it: any
 * device's poll reaps the port's completions, and each takes only its own. */
struct host_ahci_port {
	struct ahci_port port;
	struct spinlock lock;
	uint64_t recoveries_logged; /* port.recoveries already reported */
};

/* Boot CPU, after the manifest is loaded and before the APs start (ABAR is
 * mapped then): brings up the controller if a device names the ahci
 * backend, and the ports named. Logs what it found and `@ahci_port`. */
void host_ahci_init(const struct manifest *m);

/* Port `n`, started, or NULL with the reason. */
struct host_ahci_port *host_ahci_port(unsigned n, const char **why);

/* Under the port's lock, after ahci_poll: a recovery not yet reported gets
 * its log line (the device and the commands it failed). */
void host_ahci_report_errors(struct host_ahci_port *hp);

#endif
