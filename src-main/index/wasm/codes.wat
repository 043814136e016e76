;; The vector stage's inner loops, in WebAssembly with 128-bit SIMD: the Hamming distance from
;; one 1,024-bit SimHash code to every code of the open tenant, the asymmetric score of a few
;; thousand of them, and the int8 dot products of the re-rank (over the int8 copies' own memory,
;; see vector-stage.ts; the module is instantiated once per memory). Compiled by `npm run build:wasm` (wabt) into codes-wasm.ts; a test
;; compiles this file again and checks the bytes match.
;;
;; The caller's memory holds: the query code (128 bytes), the codes (128 bytes each, one after
;; another), the distances (one u16 each), and for the asymmetric score a table of 128 x 256
;; f32 (the sum of the query's projections that each byte value of each code byte selects).
;; The memory is shared (a SharedArrayBuffer), so that the vector worker (vector-worker.ts) runs
;; these kernels over the same codes as the main thread, each in a scratch area of its own.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; For each of the $n codes at $codes, its Hamming distance to the code at $query, stored as a
  ;; u16 at $out + 2i. The 128 bytes are 8 vectors: xor, count bits per byte (at most 8 per byte
  ;; per vector, so 64 per lane after 8 vectors: no overflow in i8), then widen and add lanes.
  (func (export "hamming") (param $codes i32) (param $n i32) (param $query i32) (param $out i32)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local $q4 v128) (local $q5 v128) (local $q6 v128) (local $q7 v128)
    (local $acc v128) (local $end i32)
    (local.set $q0 (v128.load offset=0 (local.get $query)))
    (local.set $q1 (v128.load offset=16 (local.get $query)))
    (local.set $q2 (v128.load offset=32 (local.get $query)))
    (local.set $q3 (v128.load offset=48 (local.get $query)))
    (local.set $q4 (v128.load offset=64 (local.get $query)))
    (local.set $q5 (v128.load offset=80 (local.get $query)))
    (local.set $q6 (v128.load offset=96 (local.get $query)))
    (local.set $q7 (v128.load offset=112 (local.get $query)))
    (local.set $end (i32.add (local.get $codes) (i32.shl (local.get $n) (i32.const 7))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $codes) (local.get $end)))
        (local.set $acc (i8x16.popcnt (v128.xor (v128.load offset=0 (local.get $codes)) (local.get $q0))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=16 (local.get $codes)) (local.get $q1)))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=32 (local.get $codes)) (local.get $q2)))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=48 (local.get $codes)) (local.get $q3)))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=64 (local.get $codes)) (local.get $q4)))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=80 (local.get $codes)) (local.get $q5)))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=96 (local.get $codes)) (local.get $q6)))))
        (local.set $acc (i8x16.add (local.get $acc) (i8x16.popcnt (v128.xor (v128.load offset=112 (local.get $codes)) (local.get $q7)))))
        (local.set $acc (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $acc))))
        (i32.store16 (local.get $out)
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $codes (i32.add (local.get $codes) (i32.const 128)))
        (local.set $out (i32.add (local.get $out) (i32.const 2)))
        (br $next))))

  ;; For each of the $m row numbers (i32) at $rows, the sum over the code's 128 bytes of
  ;; table[byte index][byte value] (f32, $table), stored as an f32 at $out + 4i.
  (func (export "asymmetric") (param $codes i32) (param $rows i32) (param $m i32) (param $table i32) (param $out i32)
    (local $end i32) (local $code i32) (local $b i32) (local $sum f32)
    (local.set $end (i32.add (local.get $rows) (i32.shl (local.get $m) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $rows) (local.get $end)))
        (local.set $code (i32.add (local.get $codes) (i32.shl (i32.load (local.get $rows)) (i32.const 7))))
        (local.set $sum (f32.const 0))
        (local.set $b (i32.const 0))
        (loop $byte
          (local.set $sum
            (f32.add (local.get $sum)
              (f32.load
                (i32.add (local.get $table)
                  (i32.shl
                    (i32.add (i32.shl (local.get $b) (i32.const 8)) (i32.load8_u (i32.add (local.get $code) (local.get $b))))
                    (i32.const 2))))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $byte (i32.lt_u (local.get $b) (i32.const 128))))
        (f32.store (local.get $out) (local.get $sum))
        (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $next))))

  ;; For each of the $m row numbers (i32) at $rows, the dot product of the int8 vector of $dim
  ;; values at $vectors + row * $dim with the int8 query at $query, stored as an i32 at $out + 4i.
  ;; $dim is a multiple of 16. Exact: each step adds pairs of int8 products (at most 2 x 16,384)
  ;; into i32 lanes, far from overflow for any dimension these vectors have.
  (func (export "dots") (param $vectors i32) (param $dim i32) (param $rows i32) (param $m i32) (param $query i32) (param $out i32)
    (local $end i32) (local $v i32) (local $i i32) (local $acc v128) (local $a v128) (local $b v128)
    (local.set $end (i32.add (local.get $rows) (i32.shl (local.get $m) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $rows) (local.get $end)))
        (local.set $v (i32.add (local.get $vectors) (i32.mul (i32.load (local.get $rows)) (local.get $dim))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (loop $chunk
          (local.set $a (v128.load (i32.add (local.get $v) (local.get $i))))
          (local.set $b (v128.load (i32.add (local.get $query) (local.get $i))))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b)))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $chunk (i32.lt_u (local.get $i) (local.get $dim))))
        (i32.store (local.get $out)
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $next)))))
