export interface Order {
  item: string;
  quantity: number;
}

export function parseOrder(raw: string): Order {
  const order = JSON.parse(raw) as Order;
  if (order.quantity <= 0) {
    throw new RangeError(`quantity must be positive, got ${order.quantity}`);
  }
  return order;
}
