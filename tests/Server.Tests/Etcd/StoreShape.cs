using System.Collections;
using System.Reflection;

namespace CurpStore.Server.Tests.Etcd;

/// <summary>Structural equality for store records, which hold byte arrays and lists (record equality would compare
/// them by reference): byte arrays by content, sequences element by element, everything else property by property.
/// Independent of the code under test, so a field lost or swapped on the way shows up with its path.</summary>
internal static class StoreShape
{
    public static void AssertEqual(object? expected, object? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            Assert.AreEqual(expected is null, actual is null, $"{path}: expected {expected ?? "null"}, got {actual ?? "null"}");
            return;
        }
        if (expected is byte[] bytes)
        {
            Assert.IsInstanceOfType<byte[]>(actual, path);
            CollectionAssert.AreEqual(bytes, (byte[])actual, $"{path}: bytes");
            return;
        }
        if (expected is IEnumerable sequence and not string)
        {
            // Any list type will do (the store declares IReadOnlyList); the elements must match.
            Assert.IsInstanceOfType<IEnumerable>(actual, path);
            var left = sequence.Cast<object?>().ToList();
            var right = ((IEnumerable)actual).Cast<object?>().ToList();
            Assert.AreEqual(left.Count, right.Count, $"{path}: count");
            for (var i = 0; i < left.Count; i++)
            {
                AssertEqual(left[i], right[i], $"{path}[{i}]");
            }
            return;
        }
        Assert.AreEqual(expected.GetType(), actual.GetType(), $"{path}: type");
        var type = expected.GetType();
        if (type.IsPrimitive || type.IsEnum || expected is string)
        {
            Assert.AreEqual(expected, actual, path);
            return;
        }
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
        Assert.IsTrue(properties.Count > 0, $"{path}: {type.Name} has no public properties to compare");
        foreach (var property in properties)
        {
            AssertEqual(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
        }
    }
}
