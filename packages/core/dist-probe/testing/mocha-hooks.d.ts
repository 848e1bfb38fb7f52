/** Mocha root hooks: one GPU runtime for the whole run, destroyed at the end so Node exits. */
export declare const mochaHooks: {
    beforeAll(): Promise<void>;
    afterAll(): void;
};
