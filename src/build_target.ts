/**
 * What this program was built as. `build.ts` defines BROKER_BUILD_TARGET ("linux-x86_64", "armv7",
 * ...); run from source it is undefined and the target is "source".
 */
declare const BROKER_BUILD_TARGET: string | undefined;

export const BUILD_TARGET: string = typeof BROKER_BUILD_TARGET === "string" ? BROKER_BUILD_TARGET : "source";
