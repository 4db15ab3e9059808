//go:build amd64 && !purego

#include "textflag.h"

// Both kernels walk the phase table like kernelGo. Registers:
//	DI  next output sample       R8  end of out
//	SI  buf                      R9  pos (window start)
//	R10 fill − width             R11 phase
//	R12 phase table              R13 coefficients
//	AX  &tab[ph]  BX coefficients of the branch  CX taps left  DX window

// func kernelSSE(out *int16, maxOut int, buf *float32, pos, fillMinusWidth int, ph int, tab *phase, coefs *float32) (n, newPos, newPh int)
TEXT ·kernelSSE(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), DI
	MOVQ maxOut+8(FP), R8
	LEAQ (DI)(R8*2), R8
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

sloop:
	CMPQ DI, R8
	JAE  sdone
	CMPQ R9, R10
	JG   sdone
	MOVQ R11, AX
	SHLQ $5, AX
	ADDQ R12, AX
	MOVLQSX 0(AX), BX
	LEAQ (R13)(BX*4), BX
	MOVLQSX 4(AX), CX          // 1 or a multiple of 8
	MOVLQSX 8(AX), DX
	ADDQ R9, DX
	LEAQ (SI)(DX*4), DX
	CMPQ CX, $1
	JEQ  ssingle
	XORPS X0, X0
	XORPS X1, X1
	XORPS X2, X2
	XORPS X3, X3

sinner16:
	CMPQ CX, $16
	JL   sinner8
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
	JMP  sinner16

sinner8:
	TESTQ CX, CX
	JLE   sreduce
	MOVUPS 0(DX), X4
	MOVUPS 0(BX), X5
	MULPS  X5, X4
	ADDPS  X4, X0
	MOVUPS 16(DX), X6
	MOVUPS 16(BX), X7
	MULPS  X7, X6
	ADDPS  X6, X1

sreduce:
	ADDPS   X2, X0
	ADDPS   X3, X1
	ADDPS   X1, X0
	MOVHLPS X0, X1
	ADDPS   X1, X0
	MOVAPS  X0, X1
	SHUFPS  $0x55, X1, X1
	ADDSS   X1, X0

sstore:
	MINSS   X12, X0
	MAXSS   X13, X0
	CVTSS2SL X0, BX
	MOVW BX, (DI)
	ADDQ $2, DI
	MOVLQSX 16(AX), BX
	ADDQ BX, R9                // pos += adv
	MOVLQSX 12(AX), R11        // ph = next
	JMP  sloop

ssingle:
	MOVSS 0(DX), X0
	MULSS 0(BX), X0
	JMP   sstore

sdone:
	SUBQ out+0(FP), DI
	SHRQ $1, DI
	MOVQ DI, n+64(FP)
	MOVQ R9, newPos+72(FP)
	MOVQ R11, newPh+80(FP)
	RET

// func kernelAVX2(out *int16, maxOut int, buf *float32, pos, fillMinusWidth int, ph int, tab *phase, coefs *float32) (n, newPos, newPh int)
TEXT ·kernelAVX2(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), DI
	MOVQ maxOut+8(FP), R8
	LEAQ (DI)(R8*2), R8
	MOVQ buf+16(FP), SI
	MOVQ pos+24(FP), R9
	MOVQ fillMinusWidth+32(FP), R10
	MOVQ ph+40(FP), R11
	MOVQ tab+48(FP), R12
	MOVQ coefs+56(FP), R13
	MOVL $0x46fffe00, AX       // 32767.0
	VMOVD AX, X12
	MOVL $0xc7000000, AX       // -32768.0
	VMOVD AX, X13

aloop:
	CMPQ DI, R8
	JAE  adone
	CMPQ R9, R10
	JG   adone
	MOVQ R11, AX
	SHLQ $5, AX
	ADDQ R12, AX
	MOVLQSX 0(AX), BX
	LEAQ (R13)(BX*4), BX
	MOVLQSX 4(AX), CX          // 1 or a multiple of 8
	MOVLQSX 8(AX), DX
	ADDQ R9, DX
	LEAQ (SI)(DX*4), DX
	CMPQ CX, $1
	JEQ  asingle
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

ainner32:
	CMPQ CX, $32
	JL   ainner8
	VMOVUPS 0(DX), Y4
	VFMADD231PS 0(BX), Y4, Y0
	VMOVUPS 32(DX), Y5
	VFMADD231PS 32(BX), Y5, Y1
	VMOVUPS 64(DX), Y6
	VFMADD231PS 64(BX), Y6, Y2
	VMOVUPS 96(DX), Y7
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ $128, DX
	ADDQ $128, BX
	SUBQ $32, CX
	JMP  ainner32

ainner8:
	TESTQ CX, CX
	JLE   areduce
	VMOVUPS 0(DX), Y4
	VFMADD231PS 0(BX), Y4, Y0
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  ainner8

areduce:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0

astore:
	VMINSS X12, X0, X0
	VMAXSS X13, X0, X0
	VCVTSS2SI X0, BX
	MOVW BX, (DI)
	ADDQ $2, DI
	MOVLQSX 16(AX), BX
	ADDQ BX, R9                // pos += adv
	MOVLQSX 12(AX), R11        // ph = next
	JMP  aloop

asingle:
	VMOVSS 0(DX), X0
	VMULSS 0(BX), X0, X0
	JMP   astore

adone:
	VZEROUPPER
	SUBQ out+0(FP), DI
	SHRQ $1, DI
	MOVQ DI, n+64(FP)
	MOVQ R9, newPos+72(FP)
	MOVQ R11, newPh+80(FP)
	RET

// func up16AVX2(out *int16, stride int, x *float32, h *float32, n int, cnt int)
//
// For i < 16, lane i computes y_i = Σ_{t<n} h[t]·x[i+t] (even taps in one
// FMA chain, odd taps in another, then their sum: the same arithmetic in
// every lane) and the first cnt lanes are stored as out[i·stride], rounded
// and saturated to 16 bits.
TEXT ·up16AVX2(SB), NOSPLIT, $64-48
	MOVQ x+16(FP), SI
	MOVQ h+24(FP), BX
	MOVQ n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

upair:
	CMPQ CX, $2
	JL   uone
	VBROADCASTSS 0(BX), Y4
	VBROADCASTSS 4(BX), Y5
	VFMADD231PS 0(SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1
	VFMADD231PS 4(SI), Y5, Y2
	VFMADD231PS 36(SI), Y5, Y3
	ADDQ $8, BX
	ADDQ $8, SI
	SUBQ $2, CX
	JMP  upair

uone:
	TESTQ CX, CX
	JEQ   usum
	VBROADCASTSS 0(BX), Y4
	VFMADD231PS 0(SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1

usum:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	MOVL $0x46fffe00, AX       // 32767.0
	VMOVD AX, X6
	VBROADCASTSS X6, Y6
	MOVL $0xc7000000, AX       // -32768.0
	VMOVD AX, X7
	VBROADCASTSS X7, Y7
	VMINPS Y6, Y0, Y0
	VMINPS Y6, Y1, Y1
	VMAXPS Y7, Y0, Y0
	VMAXPS Y7, Y1, Y1
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VMOVDQU Y0, 0(SP)
	VMOVDQU Y1, 32(SP)
	VZEROUPPER
	MOVQ out+0(FP), DI
	MOVQ stride+8(FP), DX
	SHLQ $1, DX
	MOVQ cnt+40(FP), CX
	XORQ R8, R8

ustore:
	CMPQ R8, CX
	JGE  uret
	MOVL (SP)(R8*4), AX
	MOVW AX, (DI)
	ADDQ DX, DI
	INCQ R8
	JMP  ustore

uret:
	RET

// func dec16AVX2(out *int16, cnt int, x *float32, xstride int, segs *seg, nseg int, h *float32)
//
// For i < 16, lane i computes y_i = Σ_k Σ_{s<n_k} h_k[s]·x_k[off_k+i+s],
// x_k = x + k·xstride bytes, h_k = h + start_k (even taps of each segment
// in one FMA chain, odd taps in another, then their sum: the same
// arithmetic in every lane); the first cnt lanes are stored at out,
// rounded and saturated to 16 bits.
TEXT ·dec16AVX2(SB), NOSPLIT, $64-56
	MOVQ x+16(FP), R9
	MOVQ xstride+24(FP), R10
	MOVQ segs+32(FP), R11
	MOVQ nseg+40(FP), R12
	MOVQ h+48(FP), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dseg:
	TESTQ R12, R12
	JEQ   dsum
	MOVLQSX 0(R11), BX
	LEAQ (R13)(BX*4), BX       // coefficients of the segment
	MOVLQSX 4(R11), CX         // taps
	MOVLQSX 8(R11), SI
	LEAQ (R9)(SI*4), SI        // first sample of lane 0

dpair:
	CMPQ CX, $2
	JL   done
	VBROADCASTSS 0(BX), Y4
	VBROADCASTSS 4(BX), Y5
	VFMADD231PS 0(SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1
	VFMADD231PS 4(SI), Y5, Y2
	VFMADD231PS 36(SI), Y5, Y3
	ADDQ $8, BX
	ADDQ $8, SI
	SUBQ $2, CX
	JMP  dpair

done:
	TESTQ CX, CX
	JEQ   dnext
	VBROADCASTSS 0(BX), Y4
	VFMADD231PS 0(SI), Y4, Y0
	VFMADD231PS 32(SI), Y4, Y1

dnext:
	ADDQ R10, R9
	ADDQ $16, R11
	DECQ R12
	JMP  dseg

dsum:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	MOVL $0x46fffe00, AX       // 32767.0
	VMOVD AX, X6
	VBROADCASTSS X6, Y6
	MOVL $0xc7000000, AX       // -32768.0
	VMOVD AX, X7
	VBROADCASTSS X7, Y7
	VMINPS Y6, Y0, Y0
	VMINPS Y6, Y1, Y1
	VMAXPS Y7, Y0, Y0
	VMAXPS Y7, Y1, Y1
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VMOVDQU Y0, 0(SP)
	VMOVDQU Y1, 32(SP)
	VZEROUPPER
	MOVQ out+0(FP), DI
	MOVQ cnt+8(FP), CX
	XORQ R8, R8

dstore:
	CMPQ R8, CX
	JGE  dret
	MOVL (SP)(R8*4), AX
	MOVW AX, (DI)(R8*2)
	INCQ R8
	JMP  dstore

dret:
	RET
