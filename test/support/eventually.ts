// Waiting in a unit test for something another thread makes true (a worker's answer, a socket's
// close): the condition is polled every 10 ms for at most 10 s, and its last value returned for
// the test to assert. Not a timing assertion: a slow machine only waits longer.
export async function eventually(condition: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 1000 && !condition(); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}
