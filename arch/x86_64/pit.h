/* Intel 8254 programmable interval timer, used once at boot to measure the
 * TSC (8254 data sheet; port 0x61 is the PC/AT system control port B). */
#ifndef ARCH_X86_64_PIT_H
#define ARCH_X86_64_PIT_H

#define PIT_HZ		   1193182
#define PIT_CH2_DATA	   0x42
#define PIT_MODE_CMD	   0x43
#define PIT_CH2_MODE0_LOHI 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */

#define SYS_CTRL_B	 0x61
#define SYS_CTRL_B_GATE2 0x01 /* gate of channel 2 */
#define SYS_CTRL_B_SPKR	 0x02 /* speaker data enable */
#define SYS_CTRL_B_OUT2	 0x20 /* channel 2 output, read-only */

#endif
