/**
 * `read`, with calls that arrive while one of the same key is in flight sharing its answer: a
 * read started then would only see the same state (concurrent creates, a worker's steps).
 */
export function sharedWhileInFlight<A extends unknown[], V>(
  read: (...args: A) => Promise<V>,
  keyOf: (...args: A) => string,
): (...args: A) => Promise<V> {
  const reading = new Map<string, Promise<V>>();
  return (...args) => {
    const key = keyOf(...args);
    let answer = reading.get(key);
    if (!answer) {
      answer = read(...args).finally(() => reading.delete(key));
      reading.set(key, answer);
    }
    return answer;
  };
}
