// AArch64 (AAPCS64) context switch.
//
// A suspended context is a pointer to this 176-byte frame on its own stack:
//   0   x19 x20   16  x21 x22   32  x23 x24   48  x25 x26   64  x27 x28
//   80  x29 x30 (x30 = resume address)
//   96  d8 d9    112  d10 d11  128  d12 d13  144  d14 d15
//   160 fpcr     168 padding (sp stays 16-byte aligned)
// FPCR holds the rounding mode, which AAPCS64 treats as callee-saved, so it is per fiber.

#if defined(__aarch64__)

#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
// Global entry points may be reached through a PLT stub's `br x17`, which needs a landing pad.
#define COGENT_BTI_C hint #34
#else
#define COGENT_BTI_C
#endif

        .text

// void cogent_context_switch(void** save_sp, void* load_sp)
        .globl  cogent_context_switch
        .hidden cogent_context_switch
        .type   cogent_context_switch, %function
        .p2align 4
cogent_context_switch:
        .cfi_startproc
        COGENT_BTI_C
        sub     sp, sp, #176
        .cfi_def_cfa_offset 176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        .cfi_offset x29, -96
        .cfi_offset x30, -88
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x10, sp
        str     x10, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldr     x10, [sp, #160]
        add     sp, sp, #176
        .cfi_def_cfa_offset 0
        // Writing FPCR can stall the pipeline on many cores; fibers almost always share one mode.
        cmp     x9, x10
        b.eq    1f
        msr     fpcr, x10
        // `ret`, not `br`: under BTI a `br` may only land on a `bti j` pad, and resume addresses
        // (the instructions after each `bl cogent_context_switch`) are not pads.
1:      ret
        .cfi_endproc
        .size   cogent_context_switch, .-cogent_context_switch

// void* cogent_context_make(void* stack_top, void (*entry)(void*), void* arg)
// Builds the frame above so that the first switch "returns" into the trampoline with x19 = entry and
// x20 = arg. New fibers inherit the creator's FPCR, as C11 threads inherit the floating-point
// environment.
        .globl  cogent_context_make
        .hidden cogent_context_make
        .type   cogent_context_make, %function
        .p2align 4
cogent_context_make:
        .cfi_startproc
        COGENT_BTI_C
        and     x0, x0, #-16
        // The trampoline then runs with sp = top - 16; the 16 zero bytes above it are a null frame
        // record that ends frame-pointer backtraces.
        sub     x0, x0, #192
        stp     x1, x2, [x0, #0]
        stp     xzr, xzr, [x0, #16]
        stp     xzr, xzr, [x0, #32]
        stp     xzr, xzr, [x0, #48]
        stp     xzr, xzr, [x0, #64]
        adr     x9, cogent_context_trampoline
        stp     xzr, x9, [x0, #80]
        stp     xzr, xzr, [x0, #96]
        stp     xzr, xzr, [x0, #112]
        stp     xzr, xzr, [x0, #128]
        stp     xzr, xzr, [x0, #144]
        mrs     x9, fpcr
        stp     x9, xzr, [x0, #160]
        stp     xzr, xzr, [x0, #176]
        ret
        .cfi_endproc
        .size   cogent_context_make, .-cogent_context_make

        .type   cogent_context_trampoline, %function
        .p2align 4
cogent_context_trampoline:
        .cfi_startproc
        // Outermost frame: unwinders and debuggers must stop here instead of reading garbage.
        .cfi_undefined x30
        mov     x0, x20
        blr     x19
        // The entry function must never return: there is nothing to return to.
        brk     #0
        .cfi_endproc
        .size   cogent_context_trampoline, .-cogent_context_trampoline

#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
// Marks this object BTI-compatible so linking it does not silently disable BTI for the binary.
        .pushsection .note.gnu.property, "a"
        .balign 8
        .long   4
        .long   16
        .long   5
        .asciz  "GNU"
        .long   0xc0000000
        .long   4
        .long   1
        .long   0
        .popsection
#endif

#endif

        .section .note.GNU-stack,"",%progbits
