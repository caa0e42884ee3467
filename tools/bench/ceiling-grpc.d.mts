export declare const ECHO_SERVICE: Record<string, unknown>;
