/* Multiboot Specification 0.6.96 (version 1): the numbers of §3.1 (the OS
 * image's header) and §3.3 (the boot information a loader hands over). Plain
 * numbers, no C suffixes: guest-mb's assembly includes it too. */
#ifndef VPLAT_MULTIBOOT1_DEFS_H
#define VPLAT_MULTIBOOT1_DEFS_H

/* §3.1.1: the header lies 32-bit aligned within the first 8192 bytes. */
#define MB1_HEADER_MAGIC 0x1BADB002
#define MB1_SEARCH_BYTES 8192
#define MB1_HEADER_ALIGN 4
#define MB1_HEADER_BASE	 12	    /* magic, flags, checksum */
#define MB1_HEADER_ADDRS 32	    /* ... and the five address fields (flag 16) */
#define MB1_BOOT_EAX	 0x2BADB002 /* §3.2: EAX at the OS's entry */
#define MB1_PAGE_BYTES	 4096

/* §3.1.2: header flags. Bits 0-15 are requirements: a loader that does not
 * know one must refuse the image; bits 16-31 are optional features. */
#define MB1_HDR_PAGE_ALIGN   (1 << 0)
#define MB1_HDR_MEMORY_INFO  (1 << 1)
#define MB1_HDR_VIDEO_MODE   (1 << 2)
#define MB1_HDR_ADDRESSES    (1 << 16)
#define MB1_HDR_REQUIRED     0x0000ffff
#define MB1_HDR_KNOWN_NEEDED (MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMORY_INFO)

/* §3.1.3: header field offsets. */
#define MB1_HDR_FLAGS	      4
#define MB1_HDR_CHECKSUM      8
#define MB1_HDR_HEADER_ADDR   12
#define MB1_HDR_LOAD_ADDR     16
#define MB1_HDR_LOAD_END_ADDR 20
#define MB1_HDR_BSS_END_ADDR  24
#define MB1_HDR_ENTRY_ADDR    28

/* §3.3: boot information flags, one per group of fields present. */
#define MB1_INFO_MEMORY		  (1 << 0)
#define MB1_INFO_CMDLINE	  (1 << 2)
#define MB1_INFO_MODS		  (1 << 3)
#define MB1_INFO_MMAP		  (1 << 6)
#define MB1_INFO_BOOT_LOADER_NAME (1 << 9)

/* §3.3: boot information field offsets; the structure through the
 * framebuffer fields is 116 bytes. */
#define MB1_INFO_FLAGS		  0
#define MB1_INFO_MEM_LOWER	  4
#define MB1_INFO_MEM_UPPER	  8
#define MB1_INFO_CMDLINE_ADDR	  16
#define MB1_INFO_MODS_COUNT	  20
#define MB1_INFO_MODS_ADDR	  24
#define MB1_INFO_MMAP_LENGTH	  44
#define MB1_INFO_MMAP_ADDR	  48
#define MB1_INFO_BOOT_LOADER_ADDR 64
#define MB1_INFO_BYTES		  116

/* §3.3: a module entry: mod_start, mod_end, string, reserved. */
#define MB1_MOD_START  0
#define MB1_MOD_END    4
#define MB1_MOD_STRING 8
#define MB1_MOD_BYTES  16

/* §3.3: a memory map entry: size (of the rest, not itself), base_addr,
 * length, type; mmap_addr points at the first entry's size field. */
#define MB1_MMAP_SIZE	  0
#define MB1_MMAP_BASE	  4
#define MB1_MMAP_LENGTH	  12
#define MB1_MMAP_TYPE	  20
#define MB1_MMAP_BYTES	  24
#define MB1_MMAP_RAM	  1
#define MB1_MMAP_RESERVED 2

/* The PC layout the VM shows (§3.3, mem_lower/mem_upper): conventional
 * memory ends where an extended BIOS data area would begin (639 KiB); the
 * rest up to 1 MiB is reserved (video memory and ROMs on a PC). */
#define MB1_LOW_RAM_END	    0x9FC00
#define MB1_UPPER_RAM_START 0x100000

#endif
