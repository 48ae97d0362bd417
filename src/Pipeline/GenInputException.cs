// The one exception type for faults a user can fix (bad path, corrupt file, bad option).
// After dotnet/diagnostics' CommandLineErrorException: the message is a single line that names the
// problem and the fix; Program.cs prints it without a stack trace and exits with code 2.
namespace Gen.Pipeline;

public sealed class GenInputException : Exception
{
    public GenInputException(string message) : base(OneLine(message)) { }

    public GenInputException(string message, Exception inner) : base(OneLine(message), inner) { }

    private static string OneLine(string message) =>
        message.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
