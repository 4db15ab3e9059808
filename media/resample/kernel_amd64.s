//go:build amd64 && !purego

#include "textflag.h"

// func kernelSSE(out *int16, maxOut int, buf *float32, pos, fillMinusWidth int, ph int, tab *phase, coefs *float32) (n, newPos, newPh int)
TEXT ·kernelSSE(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), DI
	MOVQ maxOut+8(FP), R8
	LEAQ (DI)(R8*2), R8        // R8 = end of out
	MOVQ buf+16(FP), SI
	MOVQ pos+24(FP), R9
	MOVQ fillMinusWidth+32(FP), R10
	MOVQ ph+40(FP), R11
	MOVQ tab+48(FP), R12
	MOVQ coefs+56(FP), R13
	MOVL $0x46fffe00, AX       // 32767.0
	MOVQ AX, X12
	MOVL $0xc7000000, AX       // -32768.0
	MOVQ AX, X13

loop:
	CMPQ DI, R8
	JAE  done
	CMPQ R9, R10
	JG   done
	MOVQ R11, AX
	SHLQ $5, AX
	ADDQ R12, AX               // AX = &tab[ph]
	MOVLQSX 0(AX), BX
	LEAQ (R13)(BX*4), BX       // BX = coefficients
	MOVLQSX 4(AX), CX          // CX = n, a multiple of 4
	MOVLQSX 8(AX), DX
	ADDQ R9, DX
	LEAQ (SI)(DX*4), DX        // DX = window
	XORPS X0, X0
	XORPS X1, X1
	XORPS X2, X2
	XORPS X3, X3

inner16:
	CMPQ CX, $16
	JL   inner4
	MOVUPS 0(DX), X4
	MOVUPS 0(BX), X5
	MULPS  X5, X4
	ADDPS  X4, X0
	MOVUPS 16(DX), X6
	MOVUPS 16(BX), X7
	MULPS  X7, X6
	ADDPS  X6, X1
	MOVUPS 32(DX), X8
	MOVUPS 32(BX), X9
	MULPS  X9, X8
	ADDPS  X8, X2
	MOVUPS 48(DX), X10
	MOVUPS 48(BX), X11
	MULPS  X11, X10
	ADDPS  X10, X3
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  inner16

inner4:
	TESTQ CX, CX
	JLE   reduce
	MOVUPS 0(DX), X4
	MOVUPS 0(BX), X5
	MULPS  X5, X4
	ADDPS  X4, X0
	ADDQ $16, DX
	ADDQ $16, BX
	SUBQ $4, CX
	JMP  inner4

reduce:
	ADDPS   X2, X0
	ADDPS   X3, X1
	ADDPS   X1, X0
	MOVHLPS X0, X1
	ADDPS   X1, X0
	MOVAPS  X0, X1
	SHUFPS  $0x55, X1, X1
	ADDSS   X1, X0
	MINSS   X12, X0
	MAXSS   X13, X0
	CVTSS2SL X0, BX
	MOVW BX, (DI)
	ADDQ $2, DI
	MOVLQSX 16(AX), BX
	ADDQ BX, R9                // pos += adv
	MOVLQSX 12(AX), R11        // ph = next
	JMP  loop

done:
	SUBQ out+0(FP), DI
	SHRQ $1, DI
	MOVQ DI, n+64(FP)
	MOVQ R9, newPos+72(FP)
	MOVQ R11, newPh+80(FP)
	RET
