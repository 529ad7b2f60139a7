/** Why a tarball packed from pkgDir would lack working prebuilt binaries; an empty string when nothing is missing. */
export declare function prebuildsProblem(pkgDir: string): string;
