/*
 * markers/arch-x86.h - immediate and jump sites for x86-64 and i386.
 * (Not yet: the optimized kinds compile as generic sites for now.)
 */
#ifndef MARKERS_ARCH_X86_H
#define MARKERS_ARCH_X86_H
#endif
