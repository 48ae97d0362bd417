namespace Gen.Cli;

/// <summary>Process exit codes (the CLI's contract): 0 success, 1 internal failure, 2 bad input or usage.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int BadInput = 2;
    public const int Interrupted = 130; // 128 + SIGINT, the shell convention
}
