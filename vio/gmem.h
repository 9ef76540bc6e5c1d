/* A VM's RAM as the I/O path sees it (design.md, "the I/O rooms"): a base and
 * a size, and nothing else. Every read or write of a ring, descriptor or
 * buffer goes through these checked copies, so no guest-supplied address can
 * make the hypervisor touch memory outside the VM's RAM. No raw pointer into
 * guest memory is ever handed out: the guest may change any byte at any time,
 * so each value is copied in once and then used (no double fetch). */
#ifndef VIO_GMEM_H
#define VIO_GMEM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct gmem {
	uint8_t *base; /* where guest-physical 0 is mapped in the host */
	uint64_t size; /* bytes of RAM from guest-physical 0 */
};

/* Whether [gpa, gpa + len) lies inside RAM; overflow-safe. */
static inline bool gmem_range_ok(const struct gmem *g, uint64_t gpa, uint64_t len)
{
	return len <= g->size && gpa <= g->size - len;
}

static inline bool gmem_read(const struct gmem *g, uint64_t gpa, void *dst, uint64_t len)
{
	if (!gmem_range_ok(g, gpa, len))
		return false;
	memcpy(dst, g->base + gpa, len);
	return true;
}

static inline bool gmem_write(const struct gmem *g, uint64_t gpa, const void *src, uint64_t len)
{
	if (!gmem_range_ok(g, gpa, len))
		return false;
	memcpy(g->base + gpa, src, len);
	return true;
}

/* Copies between two VMs' RAM (or a VM and a host buffer wrapped in a gmem):
 * the virtual switch's one copy from a sender's TX buffer to a receiver's RX
 * buffer. */
static inline bool gmem_copy(const struct gmem *dst, uint64_t dst_gpa, const struct gmem *src,
			     uint64_t src_gpa, uint64_t len)
{
	if (!gmem_range_ok(dst, dst_gpa, len) || !gmem_range_ok(src, src_gpa, len))
		return false;
	memcpy(dst->base + dst_gpa, src->base + src_gpa, len);
	return true;
}

/* Ring indices and flags are shared with a guest running on another CPU:
 * single loads and stores of naturally aligned 16-bit fields, ordered by the
 * caller's barriers (virtio 1.1 §2.7.13: the device reads the index, then the
 * entries; writes the entries, then the index). The caller has checked that
 * the ring lies in RAM (vq_setup) and is 2-byte aligned. */
static inline uint16_t gmem_load16(const struct gmem *g, uint64_t gpa)
{
	return __atomic_load_n((const uint16_t *)(g->base + gpa), __ATOMIC_ACQUIRE);
}

static inline void gmem_store16(const struct gmem *g, uint64_t gpa, uint16_t v)
{
	__atomic_store_n((uint16_t *)(g->base + gpa), v, __ATOMIC_RELEASE);
}

#endif
