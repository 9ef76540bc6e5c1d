/* The virtual switch (Liao et al., paper 002: "an efficient bridge"): an L2
 * switch with MAC learning, flooding of broadcast, multicast and unknown
 * unicast, and per-port counters. A frame is never buffered in the switch:
 * it is a gather list in the sender's memory, copied once, by the receiving
 * port, straight into that port's posted buffers. A port is a virtio-net
 * device today and a physical NIC's uplink later: both implement
 * `struct vsw_port_ops`. The caller serializes calls on one switch. */
#ifndef VIO_SWITCH_H
#define VIO_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "vio/gmem.h"
#include "vio/virtqueue.h"

#define VSW_MAX_PORTS CONFIG_MAX_SWITCH_PORTS
#define VSW_FDB_SIZE  256 /* learned addresses; the oldest is replaced */
#define VSW_NAME_MAX  CONFIG_NAME_MAX

/* A frame where the sender keeps it: `len` bytes after skipping `skip`
 * bytes of the segments (a virtio-net header). */
struct vsw_frame {
	const struct gmem *gmem;
	const struct vq_seg *seg;
	uint16_t nseg;
	uint32_t skip, len;
	uint8_t dst[6], src[6]; /* copied out of the frame once by vsw_frame_init */
};

/* Fills in dst and src from the segments; false when the frame is shorter
 * than an Ethernet header, longer than VIO_ETH_MAX_FRAME, or not in RAM. */
bool vsw_frame_init(struct vsw_frame *f, const struct gmem *g, const struct vq_seg *seg,
		    uint16_t nseg, uint32_t skip);

/* Copies `len` bytes of the frame from byte `from` into [gpa, gpa + len) of
 * `dst` (a receiver's buffer); false when either side is not in RAM. */
bool vsw_frame_copy(const struct vsw_frame *f, uint32_t from, const struct gmem *dst, uint64_t gpa,
		    uint32_t len);

enum vsw_rx {
	VSW_RX_OK,	  /* copied into the port's buffers */
	VSW_RX_NO_BUFFER, /* none posted now: try again later */
	VSW_RX_DOWN,	  /* the port's device is not live */
};

struct vsw_port_ops {
	enum vsw_rx (*receive)(void *dev, const struct vsw_frame *f);
};

struct vsw_port_stats {
	uint64_t tx_frames, tx_bytes; /* frames the port's device sent into the switch */
	uint64_t rx_frames, rx_bytes; /* frames the switch delivered to the port */
	uint64_t drop_bad_frame;      /* sent frames too short or too long */
	uint64_t drop_no_buffer;      /* flooded copies the port had no buffer for */
	uint64_t drop_down;	      /* frames for a port whose device is not live */
	uint64_t blocked;	      /* unicast sends that had to wait for buffers */
};

struct vsw_port {
	struct vswitch *sw;
	int index;
	uint8_t mac[6];
	uint32_t tx_queue_len; /* frames that may wait for a receiver's buffers */
	const struct vsw_port_ops *ops;
	void *dev;
	struct vsw_port_stats stats;
};

struct vswitch {
	char name[VSW_NAME_MAX + 1];
	struct vsw_port *port[VSW_MAX_PORTS];
	unsigned nports;
	struct {
		uint8_t mac[6];
		int16_t port; /* -1: free */
		uint64_t stamp;
	} fdb[VSW_FDB_SIZE];
	uint64_t clock; /* counts forwards, for the replacement order */
	uint64_t floods, learned;
};

void vsw_init(struct vswitch *sw, const char *name);
/* Adds a port; 0, or -1 when the switch is full. */
int vsw_add_port(struct vswitch *sw, struct vsw_port *p, const uint8_t mac[6],
		 uint32_t tx_queue_len, const struct vsw_port_ops *ops, void *dev);

enum vsw_fwd {
	VSW_FWD_DONE,	 /* delivered, or dropped and counted: the sender completes it */
	VSW_FWD_BLOCKED, /* its one destination has no buffer: the sender keeps it */
};

/* Forwards a frame that port `in` sent: learns its source address, delivers
 * a known unicast to its port, floods anything else to every other port. */
enum vsw_fwd vsw_forward(struct vswitch *sw, struct vsw_port *in, const struct vsw_frame *f);

#endif
