using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("Attribution.Tests.Fixtures.ByNameCollectionOrderer", "Attribution.Tests")]
[assembly: TestCaseOrderer("Attribution.Tests.Fixtures.ByNameTestCaseOrderer", "Attribution.Tests")]

namespace Attribution.Tests.Fixtures;

/// <summary>The order the suite runs in: by name, or by name reversed when ATTRIBUTION_TEST_ORDER=reverse. The test
/// script runs both, so a test that passes only when another ran before it (or after it) fails one of the two.</summary>
public static class TestOrder
{
    /// <summary>A trait scripts/test.sh reads: tests marked <see cref="ForwardOnly"/> are left out of its reverse pass.</summary>
    public const string PassTrait = "Pass";

    /// <summary>For a test that shares nothing with any other (its own service, broker, spool and database) and takes
    /// minutes: a second order cannot change its outcome, and running it twice would cost the suite its time limit.</summary>
    public const string ForwardOnly = "ForwardOnly";

    public static bool Reversed =>
        string.Equals(Environment.GetEnvironmentVariable("ATTRIBUTION_TEST_ORDER"), "reverse", StringComparison.OrdinalIgnoreCase);

    public static IEnumerable<T> ByName<T>(IEnumerable<T> items, Func<T, string> name)
    {
        var ordered = items.OrderBy(name, StringComparer.Ordinal).ToList();
        if (Reversed) ordered.Reverse();
        return ordered;
    }
}

/// <summary>Test classes (each its own collection unless it names one) in the order of <see cref="TestOrder"/>; in the
/// forward pass the classes with a <see cref="TestOrder.ForwardOnly"/> test go first (by name too), so that their
/// minutes overlap the short tests instead of ending the pass on one core.</summary>
public sealed class ByNameCollectionOrderer : ITestCollectionOrderer
{
    private const string PerClass = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var ordered = TestOrder.ByName(testCollections, c => c.DisplayName);
        return TestOrder.Reversed ? ordered : ordered.OrderBy(c => HasForwardOnlyTests(c) ? 0 : 1);
    }

    private static bool HasForwardOnlyTests(ITestCollection collection)
    {
        if (!collection.DisplayName.StartsWith(PerClass, StringComparison.Ordinal)) return false;
        var type = typeof(ByNameCollectionOrderer).Assembly.GetType(collection.DisplayName[PerClass.Length..]);
        // xunit's TraitAttribute keeps its name and value only as constructor arguments.
        return type is not null && type.GetMethods().SelectMany(m => m.GetCustomAttributesData())
            .Any(a => a.AttributeType == typeof(TraitAttribute)
                      && a.ConstructorArguments is [{ Value: TestOrder.PassTrait }, { Value: TestOrder.ForwardOnly }]);
    }
}

/// <summary>The tests of a class (theory cases included) in the order of <see cref="TestOrder"/>.</summary>
public sealed class ByNameTestCaseOrderer : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        TestOrder.ByName(testCases, c => c.DisplayName);
}
