// x86-64 System V context switch.
//
// A suspended context is a pointer to this frame on its own stack (lowest address first):
//   0   MXCSR (4 bytes), x87 control word (2 bytes), padding
//   8   r12  16 r13  24 r14  32 r15  40 rbx  48 rbp
//   56  resume address
// MXCSR and the x87 control word are callee-saved per the ABI, so the rounding mode is per fiber.

#if defined(__x86_64__)

        .text

// void cogent_context_switch(void** save_sp, void* load_sp)
        .globl  cogent_context_switch
        .hidden cogent_context_switch
        .type   cogent_context_switch, @function
        .p2align 4
cogent_context_switch:
        .cfi_startproc
        // The CFI stays valid across the stack swap because both stacks hold the same frame layout,
        // which lets profilers and debuggers unwind a thread caught mid-switch.
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        // Load the resume address first so the indirect jump's target is ready early.
        movq    56(%rsp), %rcx
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        movq    8(%rsp), %r12
        movq    16(%rsp), %r13
        movq    24(%rsp), %r14
        movq    32(%rsp), %r15
        movq    40(%rsp), %rbx
        movq    48(%rsp), %rbp
        leaq    64(%rsp), %rsp
        .cfi_adjust_cfa_offset -64
        // Not `ret`: the return stack buffer predicts our own caller, which is always wrong here.
        // An indirect jump is predicted from its history, which for ping-pong switching is right.
        jmpq    *%rcx
        .cfi_endproc
        .size   cogent_context_switch, .-cogent_context_switch

// void* cogent_context_make(void* stack_top, void (*entry)(void*), void* arg)
// Builds the frame above so that the first switch "returns" into the trampoline with r12 = entry and
// r13 = arg. New fibers inherit the creator's MXCSR and x87 control word, as C11 threads do.
        .globl  cogent_context_make
        .hidden cogent_context_make
        .type   cogent_context_make, @function
        .p2align 4
cogent_context_make:
        .cfi_startproc
        andq    $-16, %rdi
        // After the switch pops 64 bytes the trampoline runs with rsp = top - 16: 16-byte aligned, as a
        // call site must be. The 16 zero bytes above are a null return address that ends backtraces.
        leaq    -80(%rdi), %rax
        stmxcsr (%rax)
        fnstcw  4(%rax)
        movq    %rsi, 8(%rax)
        movq    %rdx, 16(%rax)
        xorl    %ecx, %ecx
        movq    %rcx, 24(%rax)
        movq    %rcx, 32(%rax)
        movq    %rcx, 40(%rax)
        movq    %rcx, 48(%rax)
        leaq    cogent_context_trampoline(%rip), %rcx
        movq    %rcx, 56(%rax)
        movq    $0, 64(%rax)
        movq    $0, 72(%rax)
        ret
        .cfi_endproc
        .size   cogent_context_make, .-cogent_context_make

        .type   cogent_context_trampoline, @function
        .p2align 4
cogent_context_trampoline:
        .cfi_startproc
        // Outermost frame: unwinders and debuggers must stop here instead of reading garbage.
        .cfi_undefined rip
        movq    %r13, %rdi
        callq   *%r12
        // The entry function must never return: there is nothing to return to.
        ud2
        .cfi_endproc
        .size   cogent_context_trampoline, .-cogent_context_trampoline

#endif

        .section .note.GNU-stack,"",%progbits
