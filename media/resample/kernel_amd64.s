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

// func up16AVX2(out *int16, stride int, x *float32, h *float32, n int, cnt int, nblk int)
//
// For each of nblk blocks (x and out moving on by 16 windows and 16·stride
// outputs from one block to the next): for i < 16, lane i computes y_i = Σ_{t<n} h[t]·x[i+t] (taps 4j, 4j+1,
// 4j+2, 4j+3 in four FMA chains, the last n mod 4 taps in the first, then
// the chains' sum: the same arithmetic in every lane) and the first cnt lanes are stored as out[i·stride], rounded
// and saturated to 16 bits.
TEXT ·up16AVX2(SB), NOSPLIT, $64-56
	MOVQ x+16(FP), R9
	MOVQ out+0(FP), R10
	MOVQ nblk+48(FP), R11

ublock:
	TESTQ R11, R11
	JEQ   uret
	MOVQ R9, SI
	MOVQ h+24(FP), BX
	MOVQ n+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

u4:
	CMPQ CX, $4
	JL   u1
	VBROADCASTSS 0(BX), Y8
	VBROADCASTSS 4(BX), Y9
	VBROADCASTSS 8(BX), Y10
	VBROADCASTSS 12(BX), Y11
	VFMADD231PS 0(SI), Y8, Y0
	VFMADD231PS 32(SI), Y8, Y1
	VFMADD231PS 4(SI), Y9, Y2
	VFMADD231PS 36(SI), Y9, Y3
	VFMADD231PS 8(SI), Y10, Y4
	VFMADD231PS 40(SI), Y10, Y5
	VFMADD231PS 12(SI), Y11, Y6
	VFMADD231PS 44(SI), Y11, Y7
	ADDQ $16, BX
	ADDQ $16, SI
	SUBQ $4, CX
	JMP  u4

u1:
	TESTQ CX, CX
	JEQ   usum
	VBROADCASTSS 0(BX), Y8
	VFMADD231PS 0(SI), Y8, Y0
	VFMADD231PS 32(SI), Y8, Y1
	ADDQ $4, BX
	ADDQ $4, SI
	DECQ CX
	JMP  u1

usum:
	VADDPS Y2, Y0, Y0
	VADDPS Y6, Y4, Y4
	VADDPS Y4, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y7, Y5, Y5
	VADDPS Y5, Y1, Y1
	MOVL $0x46fffe00, AX       // 32767.0
	VMOVD AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0xc7000000, AX       // -32768.0
	VMOVD AX, X13
	VBROADCASTSS X13, Y13
	VMINPS Y12, Y0, Y0
	VMINPS Y12, Y1, Y1
	VMAXPS Y13, Y0, Y0
	VMAXPS Y13, Y1, Y1
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VMOVDQU Y0, 0(SP)
	VMOVDQU Y1, 32(SP)
	MOVQ R10, DI
	MOVQ stride+8(FP), DX
	SHLQ $1, DX
	MOVQ cnt+40(FP), CX
	XORQ R8, R8

ustore:
	CMPQ R8, CX
	JGE  unext
	MOVL (SP)(R8*4), AX
	MOVW AX, (DI)
	ADDQ DX, DI
	INCQ R8
	JMP  ustore

unext:
	ADDQ $64, R9               // 16 windows on
	SHLQ $4, DX
	ADDQ DX, R10               // 16 outputs of the branch on
	DECQ R11
	JMP  ublock

uret:
	VZEROUPPER
	RET

// func poly16AVX2(out *int16, stride int, cnt int, x *float32, xstride int, segs *seg, nseg int, h *float32, nblk int)
//
// For each of nblk blocks (x moving on by 16 samples and out by 16·stride
// from one block to the next): for i < 16, lane i computes y_i = Σ_k Σ_{s<n_k} h_k[s]·x_k[off_k+i+s],
// x_k = x + k·xstride bytes, h_k = h + start_k (taps in four FMA chains as
// in up16AVX2, segment after segment: the same arithmetic in every lane); the first cnt lanes are stored at out[i·stride],
// rounded and saturated to 16 bits.
TEXT ·poly16AVX2(SB), NOSPLIT, $64-72

dblock:
	CMPQ nblk+64(FP), $0
	JEQ  dret
	MOVQ x+24(FP), R9
	MOVQ xstride+32(FP), R10
	MOVQ segs+40(FP), R11
	MOVQ nseg+48(FP), R12
	MOVQ h+56(FP), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dseg:
	TESTQ R12, R12
	JEQ   dsum
	MOVLQSX 0(R11), BX
	LEAQ (R13)(BX*4), BX       // coefficients of the segment
	MOVLQSX 4(R11), CX         // taps
	MOVLQSX 8(R11), SI
	LEAQ (R9)(SI*4), SI        // first sample of lane 0

d4:
	CMPQ CX, $4
	JL   d1
	VBROADCASTSS 0(BX), Y8
	VBROADCASTSS 4(BX), Y9
	VBROADCASTSS 8(BX), Y10
	VBROADCASTSS 12(BX), Y11
	VFMADD231PS 0(SI), Y8, Y0
	VFMADD231PS 32(SI), Y8, Y1
	VFMADD231PS 4(SI), Y9, Y2
	VFMADD231PS 36(SI), Y9, Y3
	VFMADD231PS 8(SI), Y10, Y4
	VFMADD231PS 40(SI), Y10, Y5
	VFMADD231PS 12(SI), Y11, Y6
	VFMADD231PS 44(SI), Y11, Y7
	ADDQ $16, BX
	ADDQ $16, SI
	SUBQ $4, CX
	JMP  d4

d1:
	TESTQ CX, CX
	JEQ   dnext
	VBROADCASTSS 0(BX), Y8
	VFMADD231PS 0(SI), Y8, Y0
	VFMADD231PS 32(SI), Y8, Y1
	ADDQ $4, BX
	ADDQ $4, SI
	DECQ CX
	JMP  d1

dnext:
	ADDQ R10, R9
	ADDQ $16, R11
	DECQ R12
	JMP  dseg

dsum:
	VADDPS Y2, Y0, Y0
	VADDPS Y6, Y4, Y4
	VADDPS Y4, Y0, Y0
	VADDPS Y3, Y1, Y1
	VADDPS Y7, Y5, Y5
	VADDPS Y5, Y1, Y1
	MOVL $0x46fffe00, AX       // 32767.0
	VMOVD AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0xc7000000, AX       // -32768.0
	VMOVD AX, X13
	VBROADCASTSS X13, Y13
	VMINPS Y12, Y0, Y0
	VMINPS Y12, Y1, Y1
	VMAXPS Y13, Y0, Y0
	VMAXPS Y13, Y1, Y1
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VMOVDQU Y0, 0(SP)
	VMOVDQU Y1, 32(SP)
	MOVQ out+0(FP), DI
	MOVQ stride+8(FP), DX
	SHLQ $1, DX
	MOVQ cnt+16(FP), CX
	XORQ R8, R8

dstore:
	CMPQ R8, CX
	JGE  dnextb
	MOVL (SP)(R8*4), AX
	MOVW AX, (DI)
	ADDQ DX, DI
	INCQ R8
	JMP  dstore

dnextb:
	ADDQ $64, x+24(FP)         // 16 cycles on in every residue
	SHLQ $4, DX
	ADDQ DX, out+0(FP)
	DECQ nblk+64(FP)
	JMP  dblock

dret:
	VZEROUPPER
	RET

// func cvtAVX2(dst *float32, src *int16, n int)
TEXT ·cvtAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

c8:
	CMPQ CX, $8
	JL   c1
	VPMOVSXWD (SI), Y0
	VCVTDQ2PS Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  c8

c1:
	TESTQ CX, CX
	JEQ   cdone
	MOVWLSX (SI), AX
	VCVTSI2SSL AX, X0, X0
	VMOVSS X0, (DI)
	ADDQ $2, SI
	ADDQ $4, DI
	DECQ CX
	JMP  c1

cdone:
	VZEROUPPER
	RET

// func split2AVX2(even, odd *float32, src *float32, n int)
//
// Copies src[2i] to even[i] and src[2i+1] to odd[i] for i < n.
TEXT ·split2AVX2(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX

s8:
	CMPQ CX, $8
	JL   s1
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (DX)
	ADDQ $64, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  s8

s1:
	TESTQ CX, CX
	JEQ   sdone2
	MOVL 0(SI), AX
	MOVL AX, (DI)
	MOVL 4(SI), AX
	MOVL AX, (DX)
	ADDQ $8, SI
	ADDQ $4, DI
	ADDQ $4, DX
	DECQ CX
	JMP  s1

sdone2:
	VZEROUPPER
	RET

// func splitNAsm(dst *float32, stride int, src *float32, n, m int)
//
// Copies src[i·m+k] to dst[k·stride+i] for k < m, i < n (n ≥ 1).
TEXT ·splitNAsm(SB), NOSPLIT, $0-40
	MOVQ m+32(FP), R8
	LEAQ 0(R8*4), R9           // bytes from one sample of a residue to the next
	MOVQ stride+8(FP), R10
	SHLQ $2, R10               // bytes from one residue to the next in dst
	MOVQ dst+0(FP), R11
	MOVQ src+16(FP), R12
	XORQ R13, R13              // k

nres:
	CMPQ R13, R8
	JGE  ndone
	MOVQ R11, DI
	MOVQ R12, SI
	MOVQ n+24(FP), CX

ncopy:
	MOVL (SI), AX
	MOVL AX, (DI)
	ADDQ R9, SI
	ADDQ $4, DI
	DECQ CX
	JNZ  ncopy
	ADDQ R10, R11
	ADDQ $4, R12
	INCQ R13
	JMP  nres

ndone:
	RET
