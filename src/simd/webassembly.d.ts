/**
 * The part of the WebAssembly JavaScript API that scratch-simd uses. The project compiles against lib
 * ES2022 and @types/node, which leave these globals out (they come with lib DOM); Node 20 has them all.
 */
declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    interface Memory {
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    var Memory: { prototype: Memory; new (descriptor: MemoryDescriptor): Memory };
    interface Module {}
    var Module: { prototype: Module; new (bytes: ArrayBufferView | ArrayBuffer): Module };
    interface Instance {
      readonly exports: Record<string, unknown>;
    }
    var Instance: { prototype: Instance; new (module: Module, imports?: Record<string, Record<string, unknown>>): Instance };
    function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
  }
}
export {};
