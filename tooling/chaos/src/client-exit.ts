/** Exit status of a chaos client whose `createUploader` threw (e.g. ENOSPC); the orchestrator starts it again. */
export const OPEN_FAILED_EXIT_CODE = 3;
